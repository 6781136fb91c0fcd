"""The test set held compactly: a run keeps every example until it ends, and a pydantic `Example`
holds several objects of its own beside its texts (its field dict, the set of fields given, empty
lists and dicts). `ExampleList` keeps one tuple of the given fields' values per example and
builds the `Example` when it is read (validated again: the same example, fields given included),
which is cheap beside holding them all as objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from harness.types import Example

_FIELDS = tuple(Example.model_fields)


class ExampleList(Sequence[Example]):
    """A sequence of examples. Each read builds a new `Example` (with its own lists and dicts;
    values nested deeper are shared), so an example read from it is not a way to change it."""

    __slots__ = ("_shapes", "_rows")

    def __init__(self, examples: Iterable[Example] = ()) -> None:
        self._shapes: list[tuple[str, ...]] = []  # the names of the fields given, shared by slices
        self._rows: list[tuple[Any, ...]] = []  # (shape number, value, ...)
        for example in examples:
            self.append(example)

    def append(self, example: Example) -> None:
        given = example.model_fields_set
        shape = tuple(name for name in _FIELDS if name in given)
        try:
            number = self._shapes.index(shape)
        except ValueError:
            number = len(self._shapes)
            self._shapes.append(shape)
        values = example.__dict__
        self._rows.append((number, *(values[name] for name in shape)))

    def _build(self, row: tuple[Any, ...]) -> Example:
        return Example(**dict(zip(self._shapes[row[0]], row[1:])))

    def _field(self, row: tuple[Any, ...], name: str) -> Any:
        shape = self._shapes[row[0]]
        if name in shape:
            return row[1 + shape.index(name)]
        return Example.model_fields[name].get_default(call_default_factory=True)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Example: ...

    @overload
    def __getitem__(self, index: slice) -> "ExampleList": ...

    def __getitem__(self, index: int | slice) -> "Example | ExampleList":
        if isinstance(index, slice):
            return self._with_rows(self._rows[index])
        return self._build(self._rows[index])

    def __iter__(self) -> Iterator[Example]:
        for row in self._rows:
            yield self._build(row)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"ExampleList({len(self)} examples)"

    def ids(self) -> list[str]:
        """Every example's id, in order, without building the examples."""
        return [row[1] for row in self._rows]  # `id` is required, so always the first value given

    def in_split(self, split: str) -> "ExampleList":
        return self._with_rows([row for row in self._rows if self._field(row, "split") == split])

    def without_ids(self, ids: Iterable[str]) -> "ExampleList":
        dropped = set(ids)
        return self._with_rows([row for row in self._rows if row[1] not in dropped])

    def _with_rows(self, rows: list[tuple[Any, ...]]) -> "ExampleList":
        taken = ExampleList()
        taken._shapes, taken._rows = self._shapes, rows
        return taken
