"""BM25 over chunks with bm25s, tokenised by us so index and queries always agree.

No stemming (PyStemmer is optional in bm25s, and an index must not depend on what happens to be
installed); lower-cased word tokens minus English stop words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from harness.retrieval.ranking import top_k

_TOKEN = re.compile(r"\w+")
_STOP = frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class BM25Index:
    """Scores every chunk for a query; chunks sharing no term with it score 0 and are never hits."""

    def __init__(self, model: bm25s.BM25, size: int):
        self.model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "BM25Index":
        model = bm25s.BM25()
        model.index([tokenize(t) for t in texts], show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "BM25Index":
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)

    def scores(self, query: str) -> np.ndarray:
        ids = self.model.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk position, score) best first, at most k, positive scores only."""
        return top_k(self.scores(query), k, minimum=np.nextafter(np.float32(0), np.float32(1)))

