"""Exact nearest-neighbour search over unit-normalised chunk embeddings (a matrix product).

Exact search is fast enough for corpora of tens of thousands of chunks and never misses a
neighbour, so recall numbers measure the embedding model, not an approximate index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable, Sequence

import numpy as np

from harness.retrieval.ranking import top_k

EmbedFn = Callable[[list[str]], Awaitable[np.ndarray]]
"""texts -> one unit-normalised row per text (Gateway.embed bound to a model, or a test fake)."""

ProgressFn = Callable[[int], None]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class DenseIndex:
    def __init__(self, vectors: np.ndarray):
        self.vectors = np.asarray(vectors, dtype=np.float32)  # rows already unit length

    @classmethod
    async def build(
        cls, texts: Sequence[str], embed: EmbedFn, *, batch_size: int = 128, progress: ProgressFn | None = None
    ) -> "DenseIndex":
        # similar lengths batched together: transformer batches pad to their longest text
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = []
        for start in range(0, len(order), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            vectors = unit_rows(await embed(batch))
            if len(vectors) != len(batch):
                raise ValueError(f"the embedding model returned {len(vectors)} vectors for {len(batch)} texts")
            rows.append(vectors)
            if progress:
                progress(len(batch))
        if not rows:
            return cls(np.zeros((0, 1), dtype=np.float32))
        matrix = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
        matrix[order] = np.concatenate(rows)
        return cls(matrix)

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> "DenseIndex":
        return cls(np.load(folder / "vectors.npy"))

    def similarities(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every chunk to the query."""
        query = unit_rows(query_vector)[0]
        if query.shape[0] != self.vectors.shape[1]:
            raise ValueError(
                f"query embedding has {query.shape[0]} dimensions but the index has {self.vectors.shape[1]}"
            )
        return self.vectors @ query

    def search(self, query_vector: np.ndarray, k: int, *, min_score: float | None = None) -> list[tuple[int, float]]:
        return top_k(self.similarities(query_vector), k, minimum=min_score)
