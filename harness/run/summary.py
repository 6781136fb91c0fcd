"""The one tally of a run's scores, and summary.csv made from it.

Every count the harness reports (ok / undefined / error per system and metric, samples and
errors per system, a judge's own failure rate) comes from `RunTally`, filled one sample at a
time: live by the runner as samples finish, or by `RunView` from samples.jsonl. Means and
bootstrap CIs are over `ok` values only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from array import array
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import BaseModel

from harness.errors import HarnessError

SUMMARY = "summary.csv"
SUMMARY_COLUMNS = ["system", "metric", "mean", "ci_low", "ci_high", "n", "n_undefined", "n_error"]
# intervals are drawn on this many threads once a run's resampling reaches PARALLEL_CELLS draws
BOOTSTRAP_THREADS = 4
PARALLEL_CELLS = 2_000_000


class SummaryRow(BaseModel):
    system: str
    metric: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_undefined: int
    n_error: int


class Cell:
    """The scores of one (system, metric): ok values (their count and sum, and the values
    themselves unless the tally keeps counts only), and how many were undefined or errors."""

    __slots__ = ("values", "n", "total", "n_undefined", "n_error", "n_own_error", "n_scored")

    def __init__(self) -> None:
        self.values = array("d")
        self.n = 0  # ok values
        self.total = 0.0  # their sum
        self.n_undefined = 0
        self.n_error = 0
        self.n_own_error = 0  # errors of the metric itself (the system had answered)
        self.n_scored = 0  # samples whose system answered


class RunTally:
    """Counts and ok values of a run, added one sample at a time (in the order they finished).
    `keep_values=False` keeps counts and sums only (8 bytes a score less): enough for tables,
    not for intervals, which `summary` then refuses to compute."""

    def __init__(self, *, keep_values: bool = True) -> None:
        self.keep_values = keep_values
        self.cells: dict[tuple[str, str], Cell] = {}
        self.samples: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def add(self, system: str, failed: bool, scores: Mapping[str, Any]) -> None:
        """One sample: `failed` when the system returned an error; `scores` maps names to Score
        objects or their dicts (status, value)."""
        self.samples[system] += 1
        if failed:
            self.errors[system] += 1
        cells = self.cells
        for name, score in scores.items():
            if isinstance(score, dict):
                status, value = score.get("status"), score.get("value")
            else:
                status, value = score.status, score.value
            cell = cells.get((system, name))
            if cell is None:
                cell = cells[(system, name)] = Cell()
            if not failed:
                cell.n_scored += 1
            if status == "ok" and value is not None:
                value = float(value)
                cell.n += 1
                cell.total += value
                if self.keep_values:
                    cell.values.append(value)
            elif status == "undefined":
                cell.n_undefined += 1
            else:
                cell.n_error += 1
                if not failed:
                    cell.n_own_error += 1

    def add_row(self, row: Mapping[str, Any]) -> None:
        """A samples.jsonl line as parsed JSON."""
        self.add(row["system"], bool((row.get("response") or {}).get("error")), row.get("scores") or {})

    @property
    def done(self) -> int:
        return sum(self.samples.values())

    @property
    def n_errors(self) -> int:
        return sum(self.errors.values())

    def metrics(self) -> list[str]:
        return list(dict.fromkeys(metric for _, metric in self.cells))

    def degraded(self, max_error_rate: float) -> list[str]:
        """Metrics whose own failures (a judge that broke, not a system that did) exceed the limit."""
        scored: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        for (_, metric), cell in self.cells.items():
            scored[metric] += cell.n_scored
            failed[metric] += cell.n_own_error
        notes = []
        for metric, n_failed in failed.items():
            if n_failed and n_failed / scored[metric] > max_error_rate:
                rate = n_failed / scored[metric]
                notes.append(
                    f"DEGRADED: {metric} failed on {n_failed} of {scored[metric]} samples ({rate:.0%}), "
                    f"above judge.max_error_rate {max_error_rate:.0%}; see the reasons in samples.jsonl"
                )
        return notes

    def summary(
        self, *, samples: int, confidence: float, seed: int, system_order: Iterable[str] = ()
    ) -> list[SummaryRow]:
        """One row per (system, metric): systems in `system_order` first, metrics as first seen."""
        if not self.keep_values:
            raise ValueError("this tally keeps counts only: it has no values to draw intervals from")
        import numpy as np

        from harness.stats.bootstrap import BLOCK_CELLS, bootstrap_ci

        rank = {name: i for i, name in enumerate(system_order)}
        cells = list(self.cells.items())
        # Cells holding the same values in the same order get the same interval (one seed for all):
        # drawn once. A system without a retrieval stage has generation latency = total latency.
        keys = [hashlib.blake2b(cell.values, digest_size=16).digest() for _, cell in cells]
        distinct = dict(zip(keys, (cell for _, cell in cells)))
        threads = min(os.cpu_count() or 1, BOOTSTRAP_THREADS)
        if sum(cell.n for cell in distinct.values()) * samples < PARALLEL_CELLS:
            threads = 1

        def interval(cell: Cell) -> tuple[float | None, float | None, float | None]:
            """Mean and interval of one cell. Its values are sorted first: the figures depend on
            which values a run holds, not on the order its samples finished (concurrency, or a
            resume, changes that order; the bootstrap would follow it). Each cell's copy is made
            here, so no more than one per thread exists at a time."""
            if not cell.n:
                return None, None, None
            values = np.sort(np.frombuffer(cell.values, dtype=np.float64))
            low, high = bootstrap_ci(values, samples=samples, confidence=confidence, seed=seed,
                                     block_cells=BLOCK_CELLS // threads)  # no more memory than one thread
            return float(values.mean()), low, high

        if threads > 1:
            # NumPy draws and averages without the GIL, and each cell has its own generator, so
            # threads give the same intervals sooner (the end of a large run waits for them)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(threads, thread_name_prefix="harness-bootstrap") as pool:
                found = dict(zip(distinct, pool.map(interval, distinct.values())))
        else:
            found = {key: interval(cell) for key, cell in distinct.items()}
        rows = [
            SummaryRow(system=system, metric=metric, mean=mean, ci_low=low, ci_high=high, n=cell.n,
                       n_undefined=cell.n_undefined, n_error=cell.n_error)
            for ((system, metric), cell), (mean, low, high) in zip(cells, (found[key] for key in keys))
        ]
        rows.sort(key=lambda r: rank.get(r.system, len(rank)))
        return rows


def to_csv(rows: list[SummaryRow]) -> str:
    """summary.csv text; floats at full precision (repr), so reading back gives the same number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row.model_dump().values()])
    return buffer.getvalue()


def read_summary(path: Path) -> list[SummaryRow]:
    def number(text: str | None) -> float | None:
        return float(text) if text not in ("", None) else None

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [
                SummaryRow(
                    system=r["system"], metric=r["metric"], mean=number(r["mean"]), ci_low=number(r["ci_low"]),
                    ci_high=number(r["ci_high"]), n=int(r["n"] or 0), n_undefined=int(r["n_undefined"] or 0),
                    n_error=int(r["n_error"] or 0),
                )
                for r in csv.DictReader(handle)
            ]
    except (KeyError, ValueError, TypeError) as error:
        raise HarnessError(f"unreadable {SUMMARY}: {error}", where=str(path)) from None
