"""Measured agreement of each faithfulness judge with human labels, for score details and reports.

agreement.json (next to this file) is written by benchmarks/bench_offline_judge.py --write from
the held-out split of benchmarks/data/faithfulness_judge_cases.jsonl. A judge that has not been
measured there gets None, so a report can say "not measured" rather than imply a figure.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

AGREEMENT_FILE = Path(__file__).with_name("agreement.json")


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    try:
        return json.loads(AGREEMENT_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def agreement_for(judge: str, version: str | None) -> dict[str, Any] | None:
    """{auc, auc_ci95, balanced_accuracy, balanced_accuracy_ci95, n, n_faithful, benchmark, date}
    for the judge version that was measured, else None."""
    data = _load()
    measured = data.get("judges", {}).get(f"{judge}:{version}")
    if not measured:
        return None
    keep = ("auc", "auc_ci95", "balanced_accuracy", "balanced_accuracy_ci95", "threshold")
    return {
        **{k: measured[k] for k in keep if k in measured},
        "n": data.get("n"), "n_faithful": data.get("n_faithful"),
        "benchmark": data.get("benchmark"), "date": data.get("date"),
    }  # fmt: skip
