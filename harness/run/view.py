"""Reading a run directory: the one reader every consumer (report, compare, gate, notebooks,
the pytest plug-in) goes through. It needs no lock and never writes.

- The header is validated (version 1 upgraded on the way in).
- Samples stream from samples.jsonl one line at a time. The torn-line rule: a last line without
  its newline is a write cut short by a kill, skipped; any other unreadable line is an error
  naming the file and line.
- A (system, example) pair written twice (two writers raced, before runs were locked) is kept
  once, the first, and counted in `duplicates`; baselines and the gate refuse such a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from pydantic import ValidationError

from harness.errors import HarnessError
from harness.files.jsonl import JsonlError, iter_jsonl
from harness.run.record import RunHeader, Sample, upgrade_header
from harness.run.summary import SUMMARY, RunTally, SummaryRow, read_summary
from harness.run.writer import HEADER, SAMPLES
from harness.types import MetricInfo

if TYPE_CHECKING:
    from harness.run.follow import SampleFollower


@dataclass
class RunView:
    path: Path
    header: RunHeader
    duplicates: int = 0
    torn_tail: bool = False
    _tally: RunTally | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> "RunView":
        path = Path(path)
        if not path.is_dir():
            raise HarnessError("no such run directory", where=str(path))
        header_file = path / HEADER
        if not header_file.is_file():
            raise HarnessError(f"not a run directory (no {HEADER})", where=str(path))
        try:
            data = json.loads(header_file.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise HarnessError(f"unreadable {HEADER}: {error}", where=str(path)) from None
        if not isinstance(data, dict):
            raise HarnessError(f"unreadable {HEADER}: not a JSON object", where=str(path))
        try:
            header = RunHeader.model_validate(upgrade_header(data))
        except ValidationError as error:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
            raise HarnessError(f"unreadable {HEADER}", where=str(path), problems=problems) from None
        return cls(path, header)

    @staticmethod
    def follow(path: str | Path, index: Any = None) -> "SampleFollower":
        """The samples of a run that is still being written, a batch at a time (`new_rows()`);
        `index`: an `ExampleIndex` to share."""
        from harness.run.follow import SampleFollower

        return SampleFollower(Path(path) / SAMPLES, index)

    # -- samples ---------------------------------------------------------------------------
    def rows(self) -> Iterator[dict[str, Any]]:
        """Every sample as parsed JSON, in the order written, once per (system, example): a
        pair written again (two writers raced) is skipped and counted in `duplicates`."""
        seen: set[tuple[str, str]] = set()
        self.duplicates = 0
        for row in self._raw_rows():
            key = (row["system"], str(row["example"]["id"]))
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            yield row

    def samples(self) -> Iterator[Sample]:
        """Typed samples (slower than `rows`: each line is validated)."""
        for row in self.rows():
            yield Sample.model_validate(row)

    def _raw_rows(self) -> Iterator[dict[str, Any]]:
        path = self.path / SAMPLES
        if not path.exists():
            return
        self.torn_tail = False
        try:
            for line, row in iter_jsonl(path, torn_tail=True):
                if not isinstance(row.get("system"), str) or not isinstance(row.get("example"), dict) \
                        or row["example"].get("id") is None:
                    raise HarnessError("not a sample (needs system and example.id)", where=f"{path}:{line}")
                yield row
        except JsonlError as error:
            if error.torn:
                self.torn_tail = True
                return
            raise

    def duplicates_message(self) -> str | None:
        """What a reader of this run must be told when a pair was written twice (None if none was)."""
        return duplicates_message(self.duplicates) if self.duplicates else None

    def count_duplicates(self) -> int:
        """Pairs written more than once (reads the file if it was not read yet)."""
        self.tally()
        return self.duplicates

    # -- aggregates ------------------------------------------------------------------------
    def tally(self) -> RunTally:
        """The one tally of the run's samples (read once, then kept)."""
        if self._tally is None:
            tally = RunTally()
            for row in self.rows():
                tally.add_row(row)
            self._tally = tally
        return self._tally

    def summary(self) -> list[SummaryRow]:
        """summary.csv; computed from the samples when a kill came before it was written."""
        path = self.path / SUMMARY
        if path.is_file():
            return read_summary(path)
        return self.compute_summary()

    def compute_summary(self) -> list[SummaryRow]:
        settings = self.header.settings
        return self.tally().summary(
            samples=settings.bootstrap_samples, confidence=settings.confidence, seed=settings.seed,
            system_order=self.header.systems,
        )

    def info(self, metric: str) -> MetricInfo:
        return self.header.info(metric)

    def require_clean(self, purpose: str) -> None:
        """Refuse a run whose samples hold a (system, example) pair twice: its counts and CIs
        would be wrong. `purpose` says what was refused (a baseline, the gate)."""
        if self.count_duplicates():
            raise HarnessError(
                f"{purpose}: {SAMPLES} holds {self.duplicates} duplicate (system, example) sample(s), "
                "written by two processes at once; the counts and CIs of this run cannot be trusted. "
                "Run the suite again into a new directory",
                where=str(self.path),
            )


def duplicates_message(count: int) -> str:
    """The warning for a run whose samples hold `count` pairs written twice."""
    return (
        f"{SAMPLES} holds {count} duplicate (system, example) sample(s), written by two processes at "
        "once; the first of each is used, but the run's counts may not be what was planned"
    )
