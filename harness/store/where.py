"""The sample filter language: conditions on the scores of one example across systems.

    rag.contains_answer = 0 and oracle.contains_answer = 1
    (rag.recall@3 < 0.5 or rag.faithfulness is error) and not few_shot.exact_match = 1
    "rag[top_k=3]".recall@3 >= 0.5

A reference is `system.metric`; quote a name with "..." or `...` when it holds a dot, a space
or a quote. Comparisons (= != < <= > >=) hold only for an `ok` score; `is ok|undefined|error`
tests the status. `and` binds tighter than `or`; `not` negates. Parsing gives a small tree that
`harness.store.samples` turns into SQL; nothing here touches a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Union

from harness.errors import HarnessError

OPERATORS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">")
STATUSES = ("ok", "undefined", "error")
KEYWORDS = {"and", "or", "not", "is"}
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_BARE_STOP = set(" \t\r\n.()\"`=!<>")


class WhereError(HarnessError):
    """A filter expression that does not parse or names what the run does not have."""


@dataclass(frozen=True)
class Compare:
    system: str
    metric: str
    op: str  # one of = != < <= > >=
    value: float


@dataclass(frozen=True)
class StatusIs:
    system: str
    metric: str
    status: str
    negate: bool = False


@dataclass(frozen=True)
class All:
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Any_:
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Not:
    item: "Expr"


Expr = Union[Compare, StatusIs, All, Any_, Not]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> WhereError:
        got = self.text[self.pos:self.pos + 12] or "the end"
        return WhereError(f"filter: expected {expected} at column {self.pos + 1} (found {got!r})", where=self.text)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self, word: str) -> bool:
        self.skip()
        end = self.pos + len(word)
        if self.text[self.pos:end].lower() == word and (end == len(self.text) or self.text[end] in _BARE_STOP):
            self.pos = end
            return True
        return False

    def literal(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def parse(self) -> Expr:
        expr = self.any_()
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("`and`, `or` or the end")
        return expr

    def any_(self) -> Expr:
        items = [self.all_()]
        while self.keyword("or"):
            items.append(self.all_())
        return items[0] if len(items) == 1 else Any_(tuple(items))

    def all_(self) -> Expr:
        items = [self.not_()]
        while self.keyword("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else All(tuple(items))

    def not_(self) -> Expr:
        if self.keyword("not"):
            return Not(self.not_())
        if self.literal("("):
            expr = self.any_()
            if not self.literal(")"):
                raise self.fail("`)`")
            return expr
        return self.condition()

    def name(self, what: str) -> str:
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] in "\"`":
            quote = self.text[self.pos]
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                raise self.fail(f"a closing {quote}")
            value, self.pos = self.text[self.pos + 1:end], end + 1
            if not value:
                raise self.fail(f"a {what} name")
            return value
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "[":
                depth += 1
            elif char == "]" and depth:
                depth -= 1
            elif not depth and char in _BARE_STOP:
                break
            self.pos += 1
        value = self.text[start:self.pos]
        if not value or value.lower() in KEYWORDS:
            self.pos = start
            raise self.fail(f"a {what} name (system.metric)")
        return value

    def condition(self) -> Expr:
        system = self.name("system")
        if not self.literal("."):
            raise self.fail("`.` between the system and the metric (system.metric)")
        metric = self.name("metric")
        if self.keyword("is"):
            negate = self.keyword("not")
            for status in STATUSES:
                if self.keyword(status):
                    return StatusIs(system, metric, status, negate)
            raise self.fail("ok, undefined or error")
        self.skip()
        op = next((o for o in OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            raise self.fail("a comparison (= != < <= > >=) or `is`")
        self.pos += len(op)
        self.skip()
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise self.fail("a number")
        self.pos = match.end()
        op = {"==": "=", "<>": "!="}.get(op, op)
        return Compare(system, metric, op, float(match.group()))


def parse(text: str) -> Expr:
    """The tree of a filter expression, or a WhereError saying where it went wrong."""
    if not text.strip():
        raise WhereError("filter: empty expression")
    return _Parser(text).parse()


def references(expr: Expr) -> Iterable[tuple[str, str]]:
    """Every (system, metric) the expression names."""
    if isinstance(expr, (Compare, StatusIs)):
        yield expr.system, expr.metric
    elif isinstance(expr, Not):
        yield from references(expr.item)
    else:
        for item in expr.items:
            yield from references(item)


def check(expr: Expr, systems: Iterable[str], metrics: Iterable[str]) -> None:
    """Every name must be one the run has: a typo gives an error, not an empty result."""
    systems, metrics = list(systems), list(metrics)
    for system, metric in references(expr):
        if system not in systems:
            raise WhereError(f"filter: no system {system!r} in this run (systems: {', '.join(systems)})")
        if metric not in metrics:
            raise WhereError(f"filter: no metric {metric!r} in this run (metrics: {', '.join(metrics)})")
