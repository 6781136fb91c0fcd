"""Power of a paired comparison: the smallest difference it can detect, and the n it would need.

Normal approximation for the mean of n paired differences with standard deviation sd: a test at
level alpha detects a true difference d with probability `power` when

    d >= (z(1 - alpha/sides) + z(power)) * sd / sqrt(n)      (the minimum detectable effect, MDE)

and the n needed for a target difference t is ceil(((z(1 - alpha/sides) + z(power)) * sd / t)^2).
At alpha 0.05 two-sided and 80% power the factor is 1.960 + 0.842 = 2.802. It is an
approximation (the bootstrap CIs and sign-flip tests the harness reports are not normal-theory),
good enough to say whether "no difference" means "no effect" or "too few examples".
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

from pydantic import BaseModel

TARGET = 0.05


class Power(BaseModel):
    """What a paired comparison of this size can detect (normal approximation, two-sided)."""

    n: int
    sd: float | None  # standard deviation of the paired differences
    alpha: float = 0.05
    power: float = 0.8
    mde: float | None  # smallest true difference found with the given power
    n_for_target: int | None  # examples needed to detect `target`
    target: float = 0.05


def factor(alpha: float = 0.05, power: float = 0.8, sides: int = 2) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1 or sides not in (1, 2):
        raise ValueError("alpha and power must be in (0, 1); sides is 1 or 2")
    z = NormalDist().inv_cdf
    return z(1 - alpha / sides) + z(power)


def mde(sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8, sides: int = 2) -> float | None:
    """Minimum detectable effect; None when n < 2 (no variance estimate)."""
    if n < 2:
        return None
    return factor(alpha, power, sides) * sd / math.sqrt(n)


def n_needed(sd: float, target: float = TARGET, *, alpha: float = 0.05, power: float = 0.8, sides: int = 2) -> int | None:
    """Paired examples needed to detect `target`; None when sd is 0 (any n detects it)."""
    if target <= 0:
        raise ValueError("target must be greater than 0")
    if sd <= 0:
        return None
    return max(2, math.ceil((factor(alpha, power, sides) * sd / target) ** 2))


def paired_sd(diffs: Sequence[float]) -> float | None:
    n = len(diffs)
    if n < 2:
        return None
    mean = sum(diffs) / n
    return math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))


def power_of(diffs: Sequence[float], *, alpha: float = 0.05, power: float = 0.8, target: float = TARGET,
             sides: int = 2) -> Power:
    sd = paired_sd(diffs)
    n = len(diffs)
    return Power(
        n=n, sd=sd, alpha=alpha, power=power, target=target,
        mde=None if not sd else mde(sd, n, alpha=alpha, power=power, sides=sides),
        n_for_target=None if sd is None else n_needed(sd, target, alpha=alpha, power=power, sides=sides),
    )


def describe(p: Power) -> str:
    """'detects ≥ 0.12 at 80% power (n=52); 0.05 needs n≈300'."""
    if p.sd == 0:
        return f"every paired difference is equal (n={p.n}): no variance to estimate power from"
    if p.sd is None or p.mde is None:
        return f"power not estimable (n={p.n})"
    text = f"detects differences ≥ {p.mde:.3g} at {p.power:.0%} power (n={p.n})"
    if p.n_for_target is not None:
        text += (f"; {p.target:g} would need n≈{p.n_for_target:,}" if p.n_for_target > p.n
                 else f"; {p.target:g} is within reach")
    return text
