"""Each system's answers as the decision analysis reads them: per sample the `ok` score values,
the other statuses, error, timings, tokens, cost, retrieved ids, kept as columns.

The report's follower holds every sample's outcome until the run ends, so an `OutcomeTable` keeps
it in columns (`FloatColumn`: no storage for a column that is all NaN, 4 bytes a value while
float32 holds them exactly), a fraction of what an object with dicts per sample would hold.
Reading it gives `OutcomeRow`s, views that read the columns on demand; `Outcome` is the
same answer as a plain record (`OutcomeRow.record()`).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.run.example_index import ExampleIndex  # noqa: F401 - shared with the run's readers

NO_STATUS: dict[str, str] = {}  # shared by every outcome scored all ok; never changed
_NONE = math.nan  # a missing number in a column
_ABSENT, _FIRST_STATUS = 1, 2  # status codes: 0 ok with a value, 1 neither, 2.. an index into the statuses
NUMBERS = ("total_s", "retrieval_s", "generation_s", "cost_usd")
_ERROR, _CACHED, _DECLINE_KNOWN, _DECLINED = 1, 2, 4, 8


@dataclass(slots=True)
class Outcome:
    """One system's answer to one example, reduced to what the analysis reads."""

    values: dict[str, float]  # the `ok` values
    status: dict[str, str]  # the statuses other than `ok` (undefined, error)
    error: bool
    text: str
    retrieved: list[str] | None  # document ids in rank order; None: the system does not retrieve
    total_s: float | None
    retrieval_s: float | None
    generation_s: float | None
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    cached: bool
    declined: bool | None


class FloatColumn:
    """Floats by row, NaN for none, stored as small as they allow without changing one: nothing
    while every value is NaN (a system that never retrieves has no retrieval times), 4 bytes a
    row while every value is exact as a float32 (token counts, 0/1 scores, zero costs), else 8."""

    __slots__ = ("data", "size")

    def __init__(self, size: int = 0) -> None:
        self.data: array | None = None
        self.size = size

    def append(self, value: float) -> None:
        data = self.data
        if data is None:
            if value != value:
                self.size += 1
                return
            data = self.data = array("f", [_NONE]) * self.size
        if data.typecode == "f":
            data.append(value)  # beyond float32's range it reads back as infinity
            if data[-1] != value and value == value:
                data = self.data = array("d", data)
                data[-1] = value
        else:
            data.append(value)
        self.size += 1

    def __getitem__(self, row: int) -> float:
        data = self.data
        if data is None:
            if not -self.size <= row < self.size:
                raise IndexError(row)
            return _NONE
        return data[row]

    def __len__(self) -> int:
        return self.size




class OutcomeTable(Mapping[str, "OutcomeRow"]):
    """One system's outcomes by example id, as columns (see the module docstring)."""

    def __init__(self, index: ExampleIndex | None = None) -> None:
        self.index = index if index is not None else ExampleIndex()
        self.size = 0  # examples
        self.order = array("i")  # row -> example position (a repeated id adds a row; the id reads the later one)
        self.row_at = array("i")  # example position -> its row (-1: none)
        self.value_columns: dict[str, FloatColumn] = {}  # metric -> value per row (NaN: no ok value)
        self.status_codes: dict[str, bytearray] = {}  # metric -> status code per row
        self.statuses: list[str] = []  # the statuses other than ok, interned
        self.numbers = {name: FloatColumn() for name in NUMBERS}  # NaN: not reported
        self.tokens = {name: FloatColumn() for name in ("tokens_in", "tokens_out")}  # NaN: not reported
        self.flags = bytearray()
        self.texts: dict[int, str] = {}
        self.retrieved: dict[int, list[str]] = {}

    def _row(self, example_id: object) -> int:
        position = self.index.positions.get(example_id)  # type: ignore[arg-type]
        return -1 if position is None or position >= len(self.row_at) else self.row_at[position]

    def add(self, example_id: str, response: dict[str, Any], scores: dict[str, Any], *, keep_text: bool) -> None:
        row = len(self.order)
        position = self.index.position(example_id)
        if position >= len(self.row_at):
            self.row_at.extend([-1] * (position + 1 - len(self.row_at)))
        self.size += self.row_at[position] < 0
        self.row_at[position] = row
        self.order.append(position)
        for name in scores:
            if name not in self.value_columns:
                self.value_columns[name] = FloatColumn(row)
                self.status_codes[name] = bytearray([_ABSENT]) * row
        for name, column in self.value_columns.items():
            score = scores.get(name)
            state = score.get("status") if score is not None else None
            if state == "ok" and score.get("value") is not None:  # type: ignore[union-attr]
                column.append(float(score["value"]))  # type: ignore[index]
                self.status_codes[name].append(0)
                continue
            column.append(_NONE)
            self.status_codes[name].append(_ABSENT if score is None or state == "ok" else self._status_code(str(state)))
        timings = response.get("timings") or {}
        for name in ("total_s", "retrieval_s", "generation_s"):
            self.numbers[name].append(_nan_for_none(timings.get(name)))
        self.numbers["cost_usd"].append(_nan_for_none(response.get("cost_usd")))
        usage = response.get("usage")
        for name, key in (("tokens_in", "input_tokens"), ("tokens_out", "output_tokens")):
            self.tokens[name].append(_NONE if usage is None else float(int(usage.get(key) or 0)))
        declined = (response.get("metadata") or {}).get("declined")
        self.flags.append(_ERROR * bool(response.get("error")) | _CACHED * bool(response.get("cached"))
                          | (0 if declined is None else _DECLINE_KNOWN | _DECLINED * bool(declined)))
        if keep_text:
            self.texts[row] = str(response.get("text") or "")
        retrieved = response.get("retrieved")
        if retrieved is not None:
            ordered = sorted(retrieved, key=lambda c: c.get("rank") or 0)
            self.retrieved[row] = list(dict.fromkeys(sys.intern(str(c.get("doc_id"))) for c in ordered))

    def _status_code(self, status: str) -> int:
        if status not in self.statuses:
            self.statuses.append(sys.intern(status))
        return _FIRST_STATUS + self.statuses.index(status)

    def metric_values(self, metric: str) -> dict[str, float]:
        """Example id -> `ok` value of `metric`, straight from its column."""
        column = self.value_columns.get(metric)
        if column is None:
            return {}
        return {i: column[r] for i, r in self._live() if column[r] == column[r]}  # NaN != NaN

    def _live(self) -> Iterator[tuple[str, int]]:
        """(example id, row) in the order rows were added, each id once (at its latest row)."""
        ids, row_at = self.index.ids, self.row_at
        for row, position in enumerate(self.order):
            if row_at[position] == row:
                yield ids[position], row

    def retrieves(self) -> bool:
        return bool(self.retrieved)

    def __getitem__(self, example_id: str) -> "OutcomeRow":
        row = self._row(example_id)
        if row < 0:
            raise KeyError(example_id)
        return OutcomeRow(self, row)

    def __contains__(self, example_id: object) -> bool:
        return self._row(example_id) >= 0

    def __iter__(self) -> Iterator[str]:
        return (example_id for example_id, _ in self._live())

    def __len__(self) -> int:
        return self.size


class _RowValues(Mapping[str, float]):
    """A row's `ok` values, read from the columns."""

    __slots__ = ("columns", "row")

    def __init__(self, columns: dict[str, FloatColumn], row: int):
        self.columns, self.row = columns, row

    def __getitem__(self, metric: str) -> float:
        value = self.columns[metric][self.row]
        if value != value:
            raise KeyError(metric)
        return value

    def __contains__(self, metric: object) -> bool:
        column = self.columns.get(metric)  # type: ignore[call-overload]
        return column is not None and column[self.row] == column[self.row]

    def __iter__(self) -> Iterator[str]:
        return (m for m, column in self.columns.items() if column[self.row] == column[self.row])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class OutcomeRow:
    """One sample of an `OutcomeTable`, read on demand: the fields of `Outcome`."""

    __slots__ = ("table", "row")

    def __init__(self, table: OutcomeTable, row: int):
        self.table, self.row = table, row

    @property
    def values(self) -> Mapping[str, float]:
        return _RowValues(self.table.value_columns, self.row)

    @property
    def status(self) -> dict[str, str]:
        t, row = self.table, self.row
        found = {m: t.statuses[c - _FIRST_STATUS] for m, codes in t.status_codes.items() if (c := codes[row]) >= _FIRST_STATUS}
        return found or NO_STATUS

    @property
    def error(self) -> bool:
        return bool(self.table.flags[self.row] & _ERROR)

    @property
    def cached(self) -> bool:
        return bool(self.table.flags[self.row] & _CACHED)

    @property
    def declined(self) -> bool | None:
        flags = self.table.flags[self.row]
        return bool(flags & _DECLINED) if flags & _DECLINE_KNOWN else None

    @property
    def text(self) -> str:
        return self.table.texts.get(self.row, "")

    @property
    def retrieved(self) -> list[str] | None:
        return self.table.retrieved.get(self.row)

    def _number(self, name: str) -> float | None:
        value = self.table.numbers[name][self.row]
        return None if value != value else value

    @property
    def total_s(self) -> float | None:
        return self._number("total_s")

    @property
    def retrieval_s(self) -> float | None:
        return self._number("retrieval_s")

    @property
    def generation_s(self) -> float | None:
        return self._number("generation_s")

    @property
    def cost_usd(self) -> float | None:
        return self._number("cost_usd")

    def _count(self, name: str) -> int | None:
        value = self.table.tokens[name][self.row]
        return None if value != value else int(value)

    @property
    def tokens_in(self) -> int | None:
        return self._count("tokens_in")

    @property
    def tokens_out(self) -> int | None:
        return self._count("tokens_out")

    def record(self) -> Outcome:
        """The same answer as a plain `Outcome`."""
        return Outcome(values=dict(self.values), status=dict(self.status), error=self.error, text=self.text,
                       retrieved=self.retrieved, total_s=self.total_s, retrieval_s=self.retrieval_s,
                       generation_s=self.generation_s, tokens_in=self.tokens_in, tokens_out=self.tokens_out,
                       cost_usd=self.cost_usd, cached=self.cached, declined=self.declined)


def _nan_for_none(value: Any) -> float:
    return _NONE if value is None else float(value)
