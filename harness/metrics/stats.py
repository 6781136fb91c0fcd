"""Summary statistics for scores: percentile-bootstrap confidence intervals and latency percentiles.

Only `ok` scores carry values; `undefined` and `error` scores are counted, never averaged in.
Nothing here returns NaN: an empty input gives None.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from harness.types import Score

# Resampling is done in blocks of at most this many drawn indices, so memory stays bounded.
_BLOCK_CELLS = 4_000_000


def _finite_array(values: Iterable[float | None]) -> np.ndarray:
    array = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError("values contain NaN or infinity; scores must be finite")
    return array


def bootstrap_ci(
    values: Iterable[float | None],
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """Percentile-bootstrap interval for the mean. None values are skipped.

    n = 0 gives (None, None); n = 1 (or identical values) gives (v, v).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if samples < 1:
        raise ValueError("samples must be >= 1")
    data = _finite_array(values)
    n = data.size
    if n == 0:
        return None, None
    if n == 1 or np.all(data == data[0]):
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = np.empty(samples, dtype=np.float64)
    rows = max(1, _BLOCK_CELLS // n)
    for start in range(0, samples, rows):
        stop = min(samples, start + rows)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = data[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def percentiles(values: Iterable[float | None], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float | None]:
    """{"p50": .., "p95": .., "p99": ..} (linear interpolation); None for each when empty."""
    data = _finite_array(values)
    keys = [f"p{q:g}" for q in qs]
    if data.size == 0:
        return {k: None for k in keys}
    found = np.percentile(data, list(qs))
    return {k: float(v) for k, v in zip(keys, found)}


def percentiles_by_system(
    rows: Iterable[tuple[str, float | None]], qs: Sequence[float] = (50, 95, 99)
) -> dict[str, dict[str, float | int | None]]:
    """Latency (or cost, tokens) percentiles per system from (system, value) pairs.

    Returns {system: {"n": count of values, "p50": .., "p95": .., "p99": ..}}.
    """
    grouped: dict[str, list[float]] = defaultdict(list)
    for system, value in rows:
        grouped.setdefault(system, [])
        if value is not None:
            grouped[system].append(value)
    return {system: {"n": len(vals), **percentiles(vals, qs)} for system, vals in grouped.items()}


def summarise_scores(
    scores: Iterable[Score], samples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, float | int | None]:
    """One summary.csv row's numbers for one (system, metric): mean, CI, n, n_undefined, n_error.

    `n` counts `ok` scores only; the mean and CI are over those (None when there are none).
    """
    ok: list[float] = []
    n_undefined = n_error = 0
    for score in scores:
        if score.status == "ok" and score.value is not None and math.isfinite(score.value):
            ok.append(score.value)
        elif score.status == "undefined":
            n_undefined += 1
        else:
            n_error += 1
    mean = float(np.mean(ok)) if ok else None
    low, high = bootstrap_ci(ok, samples=samples, confidence=confidence, seed=seed)
    return {"mean": mean, "ci_low": low, "ci_high": high, "n": len(ok), "n_undefined": n_undefined, "n_error": n_error}


def finite_or_error(name: str, value: float | None, **detail: object) -> Score:
    """Score.ok when the value is a finite number, else an `error` score saying why (never NaN)."""
    if value is None:
        return Score.failed(name, "metric produced no value", **detail)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Score.failed(name, f"metric produced a non-number: {value!r}", **detail)
    if not math.isfinite(number):
        return Score.failed(name, f"metric produced {number} (not a finite number)", **detail)
    return Score.ok(name, number, **detail)
