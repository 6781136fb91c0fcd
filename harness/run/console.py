"""The short text summary `harness run` prints to stderr before the run directory's path.

Every metric is shown: columns are grouped (quality, retrieval, format, cost, ...) and wrapped
into blocks that fit the terminal, so nothing measured is silently left out.
"""

from __future__ import annotations

import shutil
import sys
from typing import IO

from harness.run.record import RunHeader
from harness.run.summary import SummaryRow

CELL = 14
GROUP_ORDER = ["correctness", "quality", "faithfulness", "abstention", "retrieval", "format", "cost"]


def print_outcome(header: RunHeader, rows: list[SummaryRow], out: IO[str] | None = None) -> None:
    out = out or sys.stderr
    counts = header.counts
    print(f"{header.status}: {counts.done}/{counts.planned} samples, {counts.errors} errors", file=out)
    systems = list(dict.fromkeys(r.system for r in rows))
    if systems:
        by_key = {(r.system, r.metric): r for r in rows}
        metrics = ordered_metrics(header, [r.metric for r in rows])
        width = max(len(s) for s in systems)
        per_block = max(1, (terminal_width() - width - 2) // (CELL + 2))
        for start in range(0, len(metrics), per_block):
            block = metrics[start : start + per_block]
            if start:
                print(file=out)
            print(" " * width + "  " + "  ".join(f"{_clip(m):>{CELL}}" for m in block), file=out)
            for system in systems:
                cells = "  ".join(f"{_cell(by_key.get((system, m))):>{CELL}}" for m in block)
                print(f"{system:<{width}}  {cells}", file=out)
    for warning in header.warnings:
        print(f"warning: {warning}", file=out)


def ordered_metrics(header: RunHeader, names: list[str]) -> list[str]:
    """Metrics grouped by what they measure, first-seen order inside a group."""
    unique = list(dict.fromkeys(names))
    rank = {group: i for i, group in enumerate(GROUP_ORDER)}
    return sorted(unique, key=lambda m: (rank.get(header.info(m).group, len(rank)), unique.index(m)))


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size((120, 24)).columns)


def _clip(name: str) -> str:
    return name if len(name) <= CELL else name[: CELL - 1] + "…"


def _cell(row: SummaryRow | None) -> str:
    if row is None or row.mean is None:
        return "n/a"
    text = f"{row.mean:.3g}"
    if row.n_error:
        text += f" ({row.n_error}err)"
    return text
