"""Reading a run while it is written: the samples appended since the last look.

The same rules as `RunView` (this is its live twin, used by the process that writes reports
and store rows beside a running `harness run`): blank lines skipped, a (system, example) pair
seen before skipped and counted, an unfinished last line left for the next look (and never
read at the end, like a torn line), anything else unreadable an error naming `file:line`.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.run.example_index import ExampleIndex
from harness.files.jsonl import parse_json

CHUNK = 1 << 18


class SampleFollower:
    """New complete lines of a samples.jsonl being appended to, parsed and checked as `RunView`
    reads them: blank lines skipped, a pair seen before skipped, an unfinished last line left
    for later (and skipped at the end, like a torn line), anything else unreadable an error."""

    def __init__(self, path: Path, index: ExampleIndex | None = None):
        """`index`: the example positions to use, shared with whoever else keeps them."""
        self.path = path
        self.offset = 0
        self.rest = b""
        self.number = 0
        self.index = index if index is not None else ExampleIndex()
        self.seen: dict[str, bytearray] = {}  # system -> 1 at each position it answered (a byte a sample)
        self.duplicates = 0

    def new_rows(self) -> Iterator[dict[str, Any]]:
        """Rows appended since the last call, read `CHUNK` bytes at a time: a reader that fell
        behind a fast run never holds more than that of the file (and its rows) at once."""
        while True:
            try:
                with self.path.open("rb") as handle:
                    handle.seek(self.offset)
                    data = handle.read(CHUNK)
            except FileNotFoundError:
                return
            self.offset += len(data)
            *lines, self.rest = (self.rest + data).split(b"\n")
            yield from self._parse(lines)
            if len(data) < CHUNK:
                return

    def _parse(self, lines: list[bytes]) -> Iterator[dict[str, Any]]:
        for raw in lines:
            self.number += 1
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            if not raw.strip():
                continue
            try:
                row = parse_json(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise HarnessError(f"not a JSON line ({error})", where=f"{self.path}:{self.number}") from None
            if not isinstance(row, dict) or not isinstance(row.get("system"), str) \
                    or not isinstance(row.get("example"), dict) or row["example"].get("id") is None:
                raise HarnessError("not a sample", where=f"{self.path}:{self.number}")
            example_id = str(row["example"]["id"])
            known = len(self.index)
            position = self.index.position(example_id)
            if position < known and isinstance(row["example"]["id"], str):
                row["example"]["id"] = self.index.ids[position]  # one string per id, whoever keeps it
            seen = self.seen.get(row["system"])
            if seen is None:
                seen = self.seen[row["system"]] = bytearray()
            if position < len(seen) and seen[position]:
                self.duplicates += 1
                continue
            if position >= len(seen):
                seen.extend(bytes(position + 1 - len(seen)))
            seen[position] = 1
            yield row
