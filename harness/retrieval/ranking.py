"""Turning scores into rankings, and rankings into one (reciprocal rank fusion)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def top_k(scores: np.ndarray, k: int, *, minimum: float | None = None) -> list[tuple[int, float]]:
    """The k best (position, score), best first; ties go to the lower position so runs repeat."""
    candidates = np.arange(len(scores)) if minimum is None else np.flatnonzero(scores >= minimum)
    if len(candidates) > k:
        part = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        candidates = candidates[scores[candidates] >= scores[part].min()]  # keep boundary ties
    order = sorted(candidates.tolist(), key=lambda i: (-float(scores[i]), i))[:k]
    return [(i, float(scores[i])) for i in order]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> list[tuple[int, float]]:
    """score(d) = sum over rankings of 1 / (k + rank of d), rank counted from 1 (Cormack et al.
    2009). An item missing from a ranking gets nothing from it. Best first, ties by first seen."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: n for n, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
