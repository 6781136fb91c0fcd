"""One system's retrieval: its config applied to the shared indexes (BM25, dense or hybrid).

`min_score` is a cosine similarity for dense and hybrid alike: hybrid orders by reciprocal rank
fusion but admits only chunks whose similarity reaches the threshold, so one number means the
same thing whichever retriever a sweep picks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.retrieval.chunking import Chunk
from harness.retrieval.config import RetrievalConfig
from harness.retrieval.corpus import Corpus
from harness.retrieval.dense import DenseIndex, EmbedFn
from harness.retrieval.lexical import BM25Index
from harness.retrieval.ranking import reciprocal_rank_fusion, top_k
from harness.retrieval.rerank import RerankFn, litellm_reranker
from harness.retrieval.store import IndexStore


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int
    similarity: float | None = None  # cosine, when the retriever computed one


class Retriever:
    def __init__(
        self,
        config: RetrievalConfig,
        chunks: list[Chunk],
        bm25: BM25Index | None = None,
        dense: DenseIndex | None = None,
        embed: EmbedFn | None = None,
        rerank: RerankFn | None = None,
    ):
        if config.uses_embeddings and (dense is None or embed is None):
            raise ValueError(f"the {config.retriever} retriever needs a dense index and an embedding function")
        if config.retriever in ("bm25", "hybrid") and bm25 is None:
            raise ValueError(f"the {config.retriever} retriever needs a BM25 index")
        self.config = config
        self.chunks = chunks
        self.bm25 = bm25
        self.dense = dense
        self.embed = embed
        self.rerank = rerank

    async def search(self, query: str) -> list[Hit]:
        """The top_k chunks for the query, best first; empty when nothing is relevant."""
        config = self.config
        depth = max(config.rerank_candidates, config.top_k) if self.rerank else config.top_k
        sims = None
        if config.uses_embeddings:
            sims = self.dense.similarities(await self.embed([query]))
        if config.retriever == "bm25":
            ranked = self.bm25.search(query, depth)
        elif config.retriever == "dense":
            ranked = top_k(sims, depth, minimum=config.min_score)
        else:
            pool = max(4 * depth, 100)
            lexical = [i for i, _ in self.bm25.search(query, pool)]
            semantic = [i for i, _ in top_k(sims, pool)]
            ranked = reciprocal_rank_fusion([lexical, semantic], k=config.fusion_k)
            if config.min_score is not None:
                ranked = [(i, s) for i, s in ranked if sims[i] >= config.min_score]
            ranked = ranked[:depth]
        if self.rerank and ranked:
            order = await self.rerank(query, [self.chunks[i].text for i, _ in ranked], config.top_k)
            ranked = [(ranked[j][0], score) for j, score in order]
        return [
            Hit(self.chunks[i], score, rank, None if sims is None else float(sims[i]))
            for rank, (i, score) in enumerate(ranked[: config.top_k], start=1)
        ]


async def open_retriever(
    config: RetrievalConfig,
    corpus: Corpus,
    store: IndexStore,
    *,
    embed: EmbedFn | None = None,
    rerank: RerankFn | None = None,
) -> Retriever:
    """Load or build the indexes the config needs (once per process) and wrap them."""
    lexical = await store.lexical(corpus, config.chunking)
    dense = None
    if config.uses_embeddings:
        if embed is None:
            raise ValueError("an embedding function is needed for dense retrieval")
        dense = await store.dense(corpus, config.chunking, config.embedding_model, embed)
    if rerank is None and config.rerank_model:
        rerank = litellm_reranker(config.rerank_model)
    return Retriever(config, lexical.chunks, lexical.bm25, dense, embed, rerank)


def gateway_embedder(gateway, model: str) -> EmbedFn:
    """Embeddings through the gateway (litellm), so any provider or the local model works."""

    async def embed(texts: list[str]) -> np.ndarray:
        return await gateway.embed(model, texts)

    return embed


def default_index_root(cache_dir: Path | None = None) -> Path:
    if cache_dir is None:
        from harness.gateway.cache import default_cache_dir

        cache_dir = default_cache_dir()
    return Path(cache_dir) / "indexes"
