"""The one bootstrap and the percentiles every summary, comparison and report uses.

Only finite numbers go in: `undefined` and `error` scores are counted elsewhere, never averaged
in. Nothing here returns NaN: an empty input gives None.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

# Resampling is done in blocks of at most this many drawn indices (and as many drawn values),
# so a run's summary needs no more memory on a large run than on a small one.
# NumPy's generator gives the same stream whatever the block size, so the intervals do not
# depend on it (tests/stats/test_stats.py checks that).
BLOCK_CELLS = 262_144


def finite_array(values: Iterable[float | None]) -> np.ndarray:
    """The non-None values as float64; NaN or infinity is a bug upstream, so it raises."""
    array = values if isinstance(values, np.ndarray) else np.asarray([v for v in values if v is not None], dtype=np.float64)
    array = np.asarray(array, dtype=np.float64)
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError("values contain NaN or infinity; scores must be finite")
    return array


def bootstrap_ci(
    values: Iterable[float | None],
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    block_cells: int = BLOCK_CELLS,
) -> tuple[float | None, float | None]:
    """Percentile-bootstrap interval for the mean (of scores, or of paired differences).

    n = 0 gives (None, None); n = 1 (or identical values) gives (v, v). `block_cells`: indices
    drawn at once (callers running several on threads share BLOCK_CELLS between them).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if samples < 1:
        raise ValueError("samples must be >= 1")
    data = finite_array(values)
    n = data.size
    if n == 0:
        return None, None
    if n == 1 or np.all(data == data[0]):
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = np.empty(samples, dtype=np.float64)
    rows = max(1, block_cells // n)
    for start in range(0, samples, rows):
        stop = min(samples, start + rows)
        means[start:stop] = data[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def percentiles(values: Iterable[float | None], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float | None]:
    """{"p50": .., "p95": .., "p99": ..} (linear interpolation); None for each when empty."""
    data = finite_array(values)
    keys = [f"p{q:g}" for q in qs]
    if data.size == 0:
        return {k: None for k in keys}
    found = np.percentile(data, list(qs))
    return {k: float(v) for k, v in zip(keys, found)}
