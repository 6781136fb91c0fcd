"""User-supplied regular expressions (the `regex` metric, JSON Schema `pattern` and
`patternProperties`), matched with a time limit.

A pattern such as `^(a|a)+$` backtracks exponentially on a long output. Python's `re` cannot be
stopped and holds the GIL for the whole match, so one such match froze every thread and the
signal handlers with it. These patterns run on the `regex` package instead (the same syntax and
flags as `re`), with its `timeout`. `bounded(func, ...)` runs a scoring function whose matches go
through `search`: first on the event loop within a short budget (almost every match is far
quicker), and when a match runs past it, again from the start in a scoring thread, its matches
releasing the GIL (`concurrent=True`), within the scoring limit; past that, `ScoringTimeout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import regex

from harness.metrics.base import ScoringTimeout
from harness.runtime.thread_pool import TimedThreadPool

T = TypeVar("T")

INLINE_BUDGET_S = 0.02
"""What all matches of one score may take on the event loop before they move to a thread."""
_GRACE_S = 1.0  # the pool's own limit, past the matches': a match's timeout says more


class PatternError(ValueError):
    """The pattern does not compile."""


class RegexTimeout(ScoringTimeout):
    """A match ran past the time left to its score."""


@dataclass
class _Budget:
    deadline: float
    limit_s: float
    concurrent: bool


_BUDGET: ContextVar[_Budget | None] = ContextVar("harness_regex_budget", default=None)


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False, dot_all: bool = False) -> Any:
    """The compiled pattern (`regex`'s VERSION0: `re`'s syntax and semantics)."""
    flags = (regex.IGNORECASE if ignore_case else 0) | (regex.DOTALL if dot_all else 0)
    try:
        return regex.compile(pattern, flags)
    except regex.error as error:
        raise PatternError(str(error)) from None


def search(pattern: Any, text: str, *, full: bool = False) -> Any:
    """`pattern.search(text)` (`fullmatch` when `full`), within the budget of the score being
    computed (unbounded outside one: a schema checked while the suite loads)."""
    budget = _BUDGET.get()
    match = pattern.fullmatch if full else pattern.search
    if budget is None:
        return match(text)
    # the engine's timeout counts the whole process's CPU time, which other busy threads make run
    # faster than the clock: a match cut short is tried again until the budget's time is up
    while (left := budget.deadline - time.perf_counter()) > 0:
        try:
            return match(text, timeout=left, concurrent=budget.concurrent)
        except TimeoutError:
            continue
    shown = pattern.pattern if len(pattern.pattern) <= 80 else pattern.pattern[:77] + "..."
    raise RegexTimeout(budget.limit_s, f"pattern {shown!r} on a {len(text):,}-character text")


@contextmanager
def _budget(seconds: float, limit_s: float, concurrent: bool) -> Iterator[None]:
    token = _BUDGET.set(_Budget(time.perf_counter() + seconds, limit_s, concurrent))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _in_thread(func: Callable[..., T], args: tuple[Any, ...], limit_s: float) -> T:
    with _budget(limit_s, limit_s, concurrent=True):
        return func(*args)


_pool: TimedThreadPool | None = None


def scoring_pool() -> TimedThreadPool:
    """Daemon threads for scoring work moved off the event loop (a stuck one never blocks exit)."""
    global _pool
    if _pool is None:
        _pool = TimedThreadPool(4, name="harness-scoring")
    return _pool


async def bounded(func: Callable[..., T], *args: Any, limit_s: float) -> T:
    """`func(*args)`, its matches bounded as the module says; raises ScoringTimeout past `limit_s`."""
    inline = min(INLINE_BUDGET_S, limit_s)
    try:
        with _budget(inline, limit_s, concurrent=False):
            return func(*args)
    except RegexTimeout:
        if inline >= limit_s:
            raise
    try:
        value, _ = await scoring_pool().run(_in_thread, (func, args, limit_s), {}, timeout_s=limit_s + _GRACE_S)
    except TimeoutError:  # the work around the matches overran (a match's own timeout is a RegexTimeout)
        raise ScoringTimeout(limit_s, "its thread is left to finish") from None
    return value
