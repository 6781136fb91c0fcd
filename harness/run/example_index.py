"""Example id -> position (first seen), one entry per example: what the readers of a run that
keep per-example state (the live sample reader, the report's aggregates, the decision's outcome
tables) share, so each id string and position is held once per process."""

from __future__ import annotations


class ExampleIndex:
    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.ids: list[str] = []  # position -> id: one string object per id, whoever keeps it

    def position(self, example_id: str) -> int:
        found = self.positions.get(example_id)
        if found is None:
            found = self.positions[example_id] = len(self.ids)
            self.ids.append(example_id)
        return found

    def __len__(self) -> int:
        return len(self.ids)
