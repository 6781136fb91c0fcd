"""The index cache: built once, reused on disk and in memory, rebuilt when a document changes."""

from __future__ import annotations

import asyncio

import pytest

from harness.retrieval.config import ChunkingConfig, CorpusConfig
from harness.retrieval.corpus import load_corpus
from harness.retrieval.store import IndexStore, clear_memory
from harness.retrieval.fakes import FakeEmbedder

CHUNKING = ChunkingConfig(strategy="paragraph", size=50)
MODEL = "fake/bow"


pytestmark = pytest.mark.usefixtures("fresh_index_memory")


@pytest.fixture
def corpus_dir(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in {"a.md": "Alpha paragraph.\n\nSecond alpha.", "b.md": "Beta text.", "c.md": "Gamma."}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def build(corpus_dir, root, embed, chunking=CHUNKING, model=MODEL):
    corpus = load_corpus(CorpusConfig(path=str(corpus_dir)), corpus_dir)
    store = IndexStore(root, show_progress=False)

    async def run():
        lexical = await store.lexical(corpus, chunking)
        dense = await store.dense(corpus, chunking, model, embed)
        return store, lexical, dense

    return asyncio.run(run())


def test_second_build_is_a_cache_hit_on_disk(corpus_dir, tmp_path):
    embed = FakeEmbedder()
    store, lexical, dense = build(corpus_dir, tmp_path / "idx", embed)
    assert len(store.built) == 2 and embed.texts == len(lexical.chunks) == 3
    assert dense.vectors.shape[0] == 3
    clear_memory()  # a new process: only the disk cache is left
    store2, lexical2, dense2 = build(corpus_dir, tmp_path / "idx", embed)
    assert store2.built == [] and embed.texts == 3
    assert [c.id for c in lexical2.chunks] == [c.id for c in lexical.chunks]
    assert (dense2.vectors == dense.vectors).all()


def test_in_memory_registry_shares_one_object(corpus_dir, tmp_path):
    embed = FakeEmbedder()
    _, lexical, dense = build(corpus_dir, tmp_path / "idx", embed)
    _, lexical2, dense2 = build(corpus_dir, tmp_path / "idx", embed)
    assert lexical2 is lexical and dense2 is dense


def test_changing_one_document_rebuilds(corpus_dir, tmp_path):
    embed = FakeEmbedder()
    store, _, _ = build(corpus_dir, tmp_path / "idx", embed)
    (corpus_dir / "b.md").write_text("Beta text, edited.", encoding="utf-8")
    store2, lexical, _ = build(corpus_dir, tmp_path / "idx", embed)
    assert len(store2.built) == 2 and store2.built[0] != store.built[0]
    assert any("edited" in c.text for c in lexical.chunks)
    assert embed.texts == 6


def test_chunking_or_model_change_gives_a_new_index(corpus_dir, tmp_path):
    embed = FakeEmbedder()
    store, _, _ = build(corpus_dir, tmp_path / "idx", embed)
    store2, _, _ = build(corpus_dir, tmp_path / "idx", embed, model="fake/other")
    assert len(store2.built) == 1  # chunks and BM25 reused, only the vectors are new
    assert store2.built[0].parent == store.built[1].parent
    store3, _, _ = build(corpus_dir, tmp_path / "idx", embed, chunking=ChunkingConfig(strategy="fixed", size=2))
    assert len(store3.built) == 2


def test_concurrent_systems_build_once(corpus_dir, tmp_path):
    corpus = load_corpus(CorpusConfig(path=str(corpus_dir)), corpus_dir)
    embed = FakeEmbedder()

    async def slow_embed(texts):
        await asyncio.sleep(0.05)
        return await embed(texts)

    async def run():
        stores = [IndexStore(tmp_path / "idx", show_progress=False) for _ in range(4)]
        results = await asyncio.gather(*(s.dense(corpus, CHUNKING, MODEL, slow_embed) for s in stores))
        return stores, results

    stores, results = asyncio.run(run())
    assert embed.calls == 1
    assert sum(len(s.built) for s in stores) == 2
    assert all(r is results[0] for r in results)


def test_a_failed_build_leaves_nothing_behind(corpus_dir, tmp_path):
    corpus = load_corpus(CorpusConfig(path=str(corpus_dir)), corpus_dir)
    store = IndexStore(tmp_path / "idx", show_progress=False)

    async def broken(texts):
        raise RuntimeError("embedding server died")

    with pytest.raises(RuntimeError, match="embedding server died"):
        asyncio.run(store.dense(corpus, CHUNKING, MODEL, broken))
    folder = store.dense_folder(corpus, CHUNKING, MODEL)
    assert not folder.exists()
    assert not list(folder.parent.glob(".tmp-*"))
    # the next attempt builds cleanly
    clear_memory()
    embed = FakeEmbedder()
    asyncio.run(store.dense(corpus, CHUNKING, MODEL, embed))
    assert (folder / "manifest.json").is_file() and embed.calls == 1


def test_a_damaged_cache_entry_is_rebuilt(corpus_dir, tmp_path):
    embed = FakeEmbedder()
    store, _, _ = build(corpus_dir, tmp_path / "idx", embed)
    (store.built[1] / "vectors.npy").write_bytes(b"garbage")
    clear_memory()
    store2, _, dense = build(corpus_dir, tmp_path / "idx", embed)
    assert store2.built == [store.built[1]] and dense.vectors.shape[0] == 3
