"""The short text summary `harness run` prints to stderr before the run directory's path."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from harness.rundir import RunDir

HEADLINE_LIMIT = 8


def print_outcome(outcome: Any) -> None:
    header = outcome.header
    rows = _summary_rows(outcome.path)
    metrics = list(dict.fromkeys(r["metric"] for r in rows))[:HEADLINE_LIMIT]
    systems = list(dict.fromkeys(r["system"] for r in rows))
    by_key = {(r["system"], r["metric"]): r for r in rows}
    out = sys.stderr
    counts = header.counts
    print(
        f"{header.status}: {counts.done}/{counts.planned} samples, {counts.errors} errors",
        file=out,
    )
    if not systems:
        return
    width = max(len(s) for s in systems)
    print(" " * width + "  " + "  ".join(f"{m:>14}" for m in metrics), file=out)
    for system in systems:
        cells = []
        for metric in metrics:
            row = by_key.get((system, metric))
            cells.append(f"{_cell(row):>14}")
        print(f"{system:<{width}}  " + "  ".join(cells), file=out)
    for warning in header.warnings + header.degraded:
        print(f"warning: {warning}", file=out)


def _cell(row: dict[str, str] | None) -> str:
    if row is None or row["mean"] == "":
        return "n/a"
    text = f"{float(row['mean']):.3g}"
    if row["n_error"] not in ("", "0"):
        text += f" ({row['n_error']}err)"
    return text


def _summary_rows(path: Path) -> list[dict[str, str]]:
    summary = Path(path) / RunDir.SUMMARY
    if not summary.exists():
        return []
    with summary.open(newline="") as handle:
        return list(csv.DictReader(handle))
