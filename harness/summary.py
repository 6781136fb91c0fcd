"""Per-system, per-metric aggregates from the samples: means over `ok` scores, with counts and CIs."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any, Iterable

import numpy as np
from pydantic import BaseModel

from harness.metrics.stats import bootstrap_ci

SUMMARY_COLUMNS = ["system", "metric", "mean", "ci_low", "ci_high", "n", "n_undefined", "n_error"]


class SummaryRow(BaseModel):
    system: str
    metric: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_undefined: int
    n_error: int


def summarise(
    sample_rows: Iterable[dict[str, Any]],
    *,
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    system_order: list[str] | None = None,
) -> list[SummaryRow]:
    """`sample_rows` are samples.jsonl dicts; systems follow `system_order`, metrics first-seen order."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    counts: dict[tuple[str, str], list[int]] = {}
    for row in sample_rows:
        for name, score in row.get("scores", {}).items():
            key = (row["system"], name)
            tally = counts.setdefault(key, [0, 0])
            status = score.get("status")
            if status == "ok" and score.get("value") is not None:
                values[key].append(float(score["value"]))
            elif status == "undefined":
                tally[0] += 1
            else:
                tally[1] += 1
    rows = []
    for key, (n_undefined, n_error) in counts.items():
        data = np.asarray(values.get(key, []), dtype=float)
        low, high = bootstrap_ci(data, samples=samples, confidence=confidence, seed=seed)
        rows.append(
            SummaryRow(
                system=key[0],
                metric=key[1],
                mean=float(data.mean()) if len(data) else None,
                ci_low=low,
                ci_high=high,
                n=len(data),
                n_undefined=n_undefined,
                n_error=n_error,
            )
        )
    if system_order:
        rank = {name: i for i, name in enumerate(system_order)}
        rows.sort(key=lambda r: rank.get(r.system, len(rank)))
    return rows


def to_csv(rows: list[SummaryRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in row.model_dump().values()])
    return buffer.getvalue()
