"""Latency figures per system for the report: p50 and p95 of the system's own time per successful
sample (`timings.total_s`: queue waits excluded, retries and backoff included), and how many
samples needed more than one attempt. Gathered one sample at a time, so a report can stream."""

from __future__ import annotations

import math
from array import array
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class LatencyStats:
    def __init__(self) -> None:
        self.latencies: dict[str, array] = {}
        self.retried: dict[str, int] = {}
        self.with_attempts: dict[str, int] = {}
        self.samples: dict[str, int] = {}

    def add_row(self, row: dict[str, Any]) -> None:
        system = row["system"]
        response = row.get("response") or {}
        self.samples[system] = self.samples.get(system, 0) + 1
        attempts = response.get("attempts")
        if attempts is None:  # runs recorded before `attempts` was a field kept it in metadata
            attempts = (response.get("metadata") or {}).get("attempts")
        if isinstance(attempts, int):
            self.with_attempts[system] = self.with_attempts.get(system, 0) + 1
            if attempts > 1:
                self.retried[system] = self.retried.get(system, 0) + 1
        if response.get("error"):
            return
        total = (response.get("timings") or {}).get("total_s")
        if isinstance(total, (int, float)):
            self.latencies.setdefault(system, array("d")).append(float(total))

    def p50_p95(self, system: str) -> str:
        """"0.212 / 0.480" (seconds), or "n/a" without a successful sample."""
        values = list(self.latencies.get(system, ()))
        if not values:
            return "n/a"
        return f"{percentile(values, 50):.3g} / {percentile(values, 95):.3g}"

    def retried_text(self, system: str) -> str:
        """"3 (1.5%)": samples whose model or endpoint call took more than one attempt; "n/a" when
        no sample recorded attempts (a Python function, replay)."""
        if not self.with_attempts.get(system):
            return "n/a"
        retried = self.retried.get(system, 0)
        share = retried / self.samples[system]
        return f"{retried} ({share:.1%})" if retried else "0"


def latency_stats(rows: Any) -> LatencyStats:
    stats = LatencyStats()
    for row in rows:
        stats.add_row(row)
    return stats
