"""Paired statistics for two runs on the same examples.

Pairing by example id removes the between-example variance (hard questions stay hard in both
runs), so real changes show up at far smaller n than with two independent means. The p-values
come from a sign-flip permutation test on the paired differences (exact for small n, Monte
Carlo otherwise): two-sided for `compare`, one-sided in the bad direction for the gate, which
only asks "did it get worse?". Holm's step-down adjustment then controls the family-wise
false-alarm rate across every comparison made at once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

EXACT_MAX_N = 16  # 2**16 sign patterns: exact enumeration is cheap up to here
_BLOCK_CELLS = 2_000_000  # permutation blocks are bounded to this many cells


@dataclass(frozen=True)
class PairedResult:
    n: int
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-sided
    p_less: float | None  # one-sided: new is below base
    p_greater: float | None  # one-sided: new is above base
    exact: bool


def stable_seed(seed: int, *parts: str) -> int:
    """A per-comparison seed independent of the order comparisons are made in."""
    return zlib.crc32("\0".join([str(seed), *parts]).encode())


def paired_bootstrap_ci(
    diffs: np.ndarray, *, samples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float | None, float | None]:
    """Percentile bootstrap of the mean paired difference (examples resampled as pairs)."""
    from harness.stats.bootstrap import bootstrap_ci

    return bootstrap_ci(diffs, samples=samples, confidence=confidence, seed=seed)


@dataclass(frozen=True)
class SignFlip:
    """p-values for "mean difference is 0": two-sided, and one-sided for "less" (the mean
    difference is below 0) and "greater"."""

    two_sided: float
    less: float
    greater: float
    exact: bool


def sign_flip_test(diffs: np.ndarray, *, permutations: int = 10_000, seed: int = 0) -> SignFlip:
    """Paired sign-flip permutation test on the sum of differences.

    Under the null each pair's difference is equally likely to have either sign. Zero
    differences carry no information and are dropped. With at most EXACT_MAX_N non-zero
    differences every sign pattern is enumerated; otherwise `permutations` random patterns give
    the (never zero) Monte Carlo estimates (1 + hits) / (1 + permutations).
    """
    d = np.asarray(diffs, dtype=float)
    d = d[d != 0]
    m = len(d)
    if m == 0:
        return SignFlip(1.0, 1.0, 1.0, True)
    observed = float(d.sum())
    tolerance = 1e-9 * max(1.0, float(np.abs(d).sum()))
    counts = np.zeros(3, dtype=np.int64)  # |T| >= |t|, T <= t, T >= t

    def tally(bits: np.ndarray) -> None:
        stat = 2 * np.einsum("ij,j->i", bits, d) - d.sum()  # einsum: a threaded BLAS `@` crawls on a busy box
        counts[0] += np.count_nonzero(np.abs(stat) >= abs(observed) - tolerance)
        counts[1] += np.count_nonzero(stat <= observed + tolerance)
        counts[2] += np.count_nonzero(stat >= observed - tolerance)

    if m <= EXACT_MAX_N:
        tally(((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(np.uint8))
        two, less, greater = counts / 2**m
        return SignFlip(float(two), float(less), float(greater), True)
    rng = np.random.default_rng(seed)
    step = max(1, _BLOCK_CELLS // m)
    for start in range(0, permutations, step):
        rows = min(step, permutations - start)
        packed = rng.integers(0, 256, size=(rows, (m + 7) // 8), dtype=np.uint8)
        tally(np.unpackbits(packed, axis=1)[:, :m])  # one fair coin per pair
    two, less, greater = (1 + counts) / (1 + permutations)
    return SignFlip(float(two), float(less), float(greater), False)


def paired_test(
    base: np.ndarray,
    new: np.ndarray,
    *,
    permutations: int = 10_000,
    bootstrap_samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedResult:
    """Delta (new - base), its paired bootstrap CI and the sign-flip p-values."""
    diffs = np.asarray(new, dtype=float) - np.asarray(base, dtype=float)
    if len(diffs) == 0:
        return PairedResult(0, None, None, None, None, None, None, False)
    low, high = paired_bootstrap_ci(diffs, samples=bootstrap_samples, confidence=confidence, seed=seed)
    test = sign_flip_test(diffs, permutations=permutations, seed=seed + 1)
    return PairedResult(len(diffs), float(diffs.mean()), low, high, test.two_sided, test.less, test.greater, test.exact)


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values, in input order; None entries are not in the family.

    Sorted ascending, p_(i) becomes max_{j<=i} min(1, (m - j + 1) p_(j)): reject where the
    adjusted value is below alpha, and the chance of any false alarm stays at most alpha.
    """
    present = [(p, i) for i, p in enumerate(pvalues) if p is not None]
    m = len(present)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
