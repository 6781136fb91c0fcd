"""BM25, dense and hybrid retrieval on a corpus with known answers; RRF; thresholds; re-ranking."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from harness.retrieval.config import ChunkingConfig, RetrievalConfig
from harness.retrieval.corpus import Corpus, Document
from harness.retrieval.ranking import reciprocal_rank_fusion, top_k
from harness.retrieval.search import open_retriever
from harness.retrieval.store import IndexStore, clear_memory
from harness.retrieval.fakes import FakeEmbedder, ReverseReranker

import numpy as np

DOCS = [
    Document("pricing.md", "The basic plan is 5 euros per month. The pro plan price is 12 euros per month.", "Pricing"),
    Document("returns.md", "You can return a device within 45 days for a full refund.", "Returns"),
    Document("cats.md", "Our office cat is called Pixel and sleeps on the warm router.", "Office"),
    Document("dogs.md", "Dogs are not allowed in the warehouse for safety reasons.", "Warehouse"),
    Document("shipping.md", "Shipping to the European Union takes three business days.", "Shipping"),
]


@pytest.fixture(autouse=True)
def fresh_memory():
    clear_memory()
    yield
    clear_memory()


def search(tmp_path, query, embed=None, rerank=None, **overrides):
    config = RetrievalConfig(
        chunking=ChunkingConfig(strategy="paragraph", size=100), embedding_model="fake/bow", **overrides
    )

    async def run():
        retriever = await open_retriever(config, Corpus(DOCS), IndexStore(tmp_path), embed=embed or FakeEmbedder(), rerank=rerank)
        return await retriever.search(query)

    return asyncio.run(run())


def doc_ids(hits):
    return [h.chunk.doc_id for h in hits]


def test_bm25_finds_the_document_sharing_words(tmp_path):
    hits = search(tmp_path, "how many days to return a device?", retriever="bm25", top_k=3)
    assert doc_ids(hits)[0] == "returns.md"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(h.score > 0 for h in hits)
    # no shared term: BM25 finds nothing rather than returning arbitrary chunks
    assert search(tmp_path, "kitten", retriever="bm25") == []


def test_dense_finds_synonyms_bm25_cannot(tmp_path):
    assert doc_ids(search(tmp_path, "kitten", retriever="dense", top_k=1)) == ["cats.md"]
    hits = search(tmp_path, "what does the pro plan cost", retriever="dense", top_k=2)
    assert doc_ids(hits)[0] == "pricing.md"
    assert hits[0].similarity == pytest.approx(hits[0].score)
    assert hits[0].score >= hits[1].score


def test_hybrid_fuses_both_rankings(tmp_path):
    # BM25 ranks only dogs.md ("warehouse"); dense ranks dogs.md then cats.md ("kitten" ~ "cat")
    assert doc_ids(search(tmp_path, "kitten warehouse", retriever="bm25")) == ["dogs.md"]
    assert doc_ids(search(tmp_path, "kitten warehouse", retriever="dense", top_k=2)) == ["dogs.md", "cats.md"]
    hits = search(tmp_path, "kitten warehouse", retriever="hybrid", top_k=2, fusion_k=60)
    assert doc_ids(hits) == ["dogs.md", "cats.md"]
    assert [h.score for h in hits] == [pytest.approx(2 / 61), pytest.approx(1 / 62)]
    assert hits[1].similarity < hits[0].similarity


def test_reciprocal_rank_fusion_math():
    fused = reciprocal_rank_fusion([[10, 20, 30], [30, 10]], k=60)
    assert fused == [
        (10, pytest.approx(1 / 61 + 1 / 62)),
        (30, pytest.approx(1 / 63 + 1 / 61)),
        (20, pytest.approx(1 / 62)),
    ]
    assert reciprocal_rank_fusion([[1, 2], [2, 1]], k=1) == [(1, pytest.approx(1 / 2 + 1 / 3)), (2, pytest.approx(1 / 3 + 1 / 2))]
    assert reciprocal_rank_fusion([], k=60) == []


def test_top_k_is_deterministic_on_ties():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1], dtype=np.float32)
    assert top_k(scores, 3) == [(1, pytest.approx(0.9)), (0, 0.5), (2, 0.5)]
    assert top_k(scores, 10, minimum=0.5) == [(1, pytest.approx(0.9)), (0, 0.5), (2, 0.5), (3, 0.5)]


def test_min_score_threshold_reports_no_context(tmp_path):
    relevant = search(tmp_path, "kitten", retriever="dense", top_k=3, min_score=0.2)
    assert doc_ids(relevant) == ["cats.md"]
    assert all(h.similarity >= 0.2 for h in relevant)
    assert search(tmp_path, "quantum chromodynamics", retriever="dense", min_score=0.2) == []
    assert search(tmp_path, "quantum chromodynamics", retriever="hybrid", min_score=0.2) == []
    hybrid = search(tmp_path, "kitten warehouse", retriever="hybrid", top_k=5, min_score=0.3)
    assert doc_ids(hybrid) and all(h.similarity >= 0.3 for h in hybrid)


def test_reranker_reorders_candidates(tmp_path):
    reranker = ReverseReranker()
    plain = search(tmp_path, "plan month euros days", retriever="bm25", top_k=2)
    reranked = search(tmp_path, "plan month euros days", retriever="bm25", top_k=2, rerank=reranker,
                      rerank_model="fake/rerank", rerank_candidates=3)
    assert len(reranker.seen[0]) <= 3
    assert doc_ids(reranked) != doc_ids(plain)
    assert [h.rank for h in reranked] == [1, 2]


@pytest.mark.local_model
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="sentence_transformers missing")
def test_dense_with_the_real_local_embedding_model(tmp_path):
    if importlib.util.find_spec("harness.local.provider") is None:
        pytest.skip("the local/ provider is not available")
    from harness.gateway import Gateway
    from harness.retrieval.search import gateway_embedder

    embed = gateway_embedder(Gateway(), "local/all-minilm-l6-v2")
    config = RetrievalConfig(retriever="dense", top_k=1, chunking=ChunkingConfig(size=100))

    async def run():
        retriever = await open_retriever(config, Corpus(DOCS), IndexStore(tmp_path), embed=embed)
        return [doc_ids(await retriever.search(q)) for q in ("Is there a kitten at work?", "How much is a subscription?")]

    assert asyncio.run(run()) == [["cats.md"], ["pricing.md"]]
