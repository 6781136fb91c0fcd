"""Deterministic stand-ins for an embedding model and a re-ranker, for tests and demos.

They plug into the same seams as the real ones (`EmbedFn`, `RerankFn`; in a system, via
`SystemContext.extras["embed"]` and `["rerank"]`), so retrieval can be tested without a model.
"""

from __future__ import annotations

import hashlib

import numpy as np

from harness.retrieval.lexical import tokenize

# words the fake model treats as meaning the same thing, so dense can find what BM25 cannot
SYNONYMS = {"cost": "price", "costs": "price", "prices": "price", "money": "refund", "refunds": "refund",
            "kitty": "cat", "cats": "cat", "kitten": "cat", "puppy": "dog", "dogs": "dog"}
DIMENSIONS = 512


def fake_vector(text: str) -> np.ndarray:
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    for token in tokenize(text):
        token = SYNONYMS.get(token, token)
        vector[int(hashlib.sha256(token.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


class FakeEmbedder:
    """Hashed bag of words with synonyms folded; counts calls and texts so tests see cache hits."""

    def __init__(self):
        self.calls = 0
        self.texts = 0

    async def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return np.stack([fake_vector(t) for t in texts])


class ReverseReranker:
    """Puts the candidates in reverse order, so a test can see re-ranking happened."""

    def __init__(self):
        self.seen: list[list[str]] = []

    async def __call__(self, query: str, texts: list[str], top_n: int) -> list[tuple[int, float]]:
        self.seen.append(texts)
        order = list(reversed(range(len(texts))))[:top_n]
        return [(i, float(len(texts) - n)) for n, i in enumerate(order)]
