"""The run directory: the contract every later stage (report, compare, gate, notebooks) reads.

- `run.json`: a small header, rewritten atomically (temp file + rename) whenever status changes.
- `samples.jsonl`: one line per (system, example), appended and flushed as each finishes, so a
  kill loses at most the line being written; a torn last line is dropped on read and repaired
  on resume.
- `summary.csv`: `system, metric, mean, ci_low, ci_high, n, n_undefined, n_error`.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import BaseModel, Field

from harness.errors import HarnessError
from harness.types import Sample

SCHEMA_VERSION = 1
RunStatus = Literal["running", "complete", "interrupted", "failed"]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunCounts(BaseModel):
    planned: int = 0
    done: int = 0
    errors: int = 0


class RunHeader(BaseModel):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    suite: dict[str, Any]
    dataset: dict[str, Any] = Field(default_factory=dict)
    leakage: dict[str, Any] = Field(default_factory=dict)
    git: dict[str, Any] = Field(default_factory=dict)
    packages: dict[str, str] = Field(default_factory=dict)
    systems: dict[str, dict[str, Any]] = Field(default_factory=dict)
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    judge: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    started_at: str = Field(default_factory=now)
    ended_at: str | None = None
    status: RunStatus = "running"
    counts: RunCounts = Field(default_factory=RunCounts)
    artifacts: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Files a system built for this run (adapters), on this machine."
    )
    warnings: list[str] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)


class RunDir:
    HEADER = "run.json"
    SAMPLES = "samples.jsonl"
    SUMMARY = "summary.csv"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._handle: Any = None

    @classmethod
    def create(cls, path: Path, header: RunHeader) -> "RunDir":
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            raise HarnessError("already holds files; choose another --out or use --resume", where=str(path))
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        run.write_header(header)
        (path / cls.SAMPLES).touch()
        return run

    @classmethod
    def open(cls, path: Path) -> "RunDir":
        run = cls(Path(path))
        if not (run.path / cls.HEADER).is_file():
            raise HarnessError(f"not a run directory (no {cls.HEADER})", where=str(path))
        return run

    def read_header(self) -> RunHeader:
        try:
            return RunHeader.model_validate_json((self.path / self.HEADER).read_text(encoding="utf-8"))
        except ValueError as error:
            raise HarnessError(f"unreadable {self.HEADER}: {error}", where=str(self.path)) from None

    def write_header(self, header: RunHeader) -> None:
        self._atomic_write(self.HEADER, header.model_dump_json(indent=2))

    def _atomic_write(self, name: str, text: str) -> None:
        target = self.path / name
        temp = target.with_name(f".{name}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)

    def append(self, sample: Sample) -> None:
        if self._handle is None:
            self._handle = (self.path / self.SAMPLES).open("a", encoding="utf-8")
        self._handle.write(sample.model_dump_json() + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def iter_sample_dicts(self) -> Iterator[dict[str, Any]]:
        """Every complete line; a torn last line (from a kill mid-write) is skipped."""
        path = self.path / self.SAMPLES
        if not path.exists():
            return
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    def samples(self) -> list[Sample]:
        return [Sample.model_validate(row) for row in self.iter_sample_dicts()]

    def repair(self) -> int:
        """Cut a torn last line so appends start on a fresh line. Returns bytes removed."""
        path = self.path / self.SAMPLES
        data = path.read_bytes() if path.exists() else b""
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            with path.open("r+b") as handle:
                handle.truncate(keep)
        return len(data) - keep

    def write_text(self, name: str, text: str) -> Path:
        self._atomic_write(name, text)
        return self.path / name
