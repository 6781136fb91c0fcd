"""Where a sample's time goes: the system's own work, or waiting for a concurrency slot.

The runner opens a `SampleClock` around each `System.respond`; whatever waits for a slot on the
sample's behalf (the gateway's per-provider limit, a custom endpoint's `concurrency`, the thread
pool of a sync custom function) adds the wait here through `note_queue`. The runner records the
sum as `Timings.queue_s` and leaves it out of the sample's latency. A context variable carries the
clock, so no system kind has to pass it along; calls made outside a sample (the judge, index
building) note their waits nowhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class SampleClock:
    queue_s: float = 0.0
    """Seconds the sample's calls waited for a concurrency slot, summed over its calls."""


_CLOCK: ContextVar[SampleClock | None] = ContextVar("harness_sample_clock", default=None)


@contextmanager
def sample_clock() -> Iterator[SampleClock]:
    clock = SampleClock()
    token = _CLOCK.set(clock)
    try:
        yield clock
    finally:
        _CLOCK.reset(token)


def note_queue(seconds: float) -> None:
    clock = _CLOCK.get()
    if clock is not None and seconds > 0:
        clock.queue_s += seconds


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def own_time() -> Iterator[Stopwatch]:
    """Seconds a block took, less the slot waits noted on the sample's clock meanwhile (a
    retrieval stage that waits for the embedder's slot reports only its own time)."""
    clock = _CLOCK.get()
    waited_before = clock.queue_s if clock is not None else 0.0
    watch = Stopwatch()
    started = time.perf_counter()
    try:
        yield watch
    finally:
        waited = (clock.queue_s if clock is not None else 0.0) - waited_before
        watch.seconds = max(time.perf_counter() - started - waited, 0.0)


@asynccontextmanager
async def slot(semaphore: asyncio.Semaphore | None) -> AsyncIterator[float]:
    """Hold one of `semaphore`'s slots (none to take when it is None); yields the seconds waited
    for it, which are also noted on the sample's clock."""
    if semaphore is None:
        yield 0.0
        return
    asked = time.perf_counter()
    async with semaphore:
        waited = time.perf_counter() - asked
        note_queue(waited)
        yield waited
