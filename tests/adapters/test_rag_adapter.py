"""`kind: rag` and `kind: oracle` end to end with the scripted echo model (it returns the prompt)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.errors import ConfigError, SuiteError
from harness.gateway import Gateway
from harness.retrieval.config import resolve_suite_retrieval
from harness.suite.loader import parse_suite
from harness.systems import SystemContext, load_system_kinds
from harness.types import Example
from harness.retrieval.fakes import FakeEmbedder

CORPUS = {
    "returns-policy.md": "# Returns Policy\n\nSend it back if you like.\n\n## Return Window\n\n"
    "You can return any device within 45 days of delivery for a full refund.\n\n"
    "## Opened Items\n\nOpened items carry an 8% restocking fee.",
    "shipping.md": "# Shipping\n\nOrders to the European Union arrive in three business days.",
    "office/cat.md": "# Office\n\nOur office cat is called Pixel.",
}
QUESTION = "How many days do I have to return a device?"


pytestmark = pytest.mark.usefixtures("fresh_index_memory")


@pytest.fixture
def suite_dir(tmp_path):
    for name, text in CORPUS.items():
        path = tmp_path / "corpus" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def make_suite(suite_dir, systems, *, rows=None, corpus=True, **extra):
    raw = {
        "name": "rag-test",
        "dataset": {"inline": rows or [{"id": "q1", "input": QUESTION, "reference_doc_ids": ["returns-policy.md"]}]},
        "retrieval": {"main": {"retriever": "bm25", "top_k": 2, "chunking": {"strategy": "heading", "size": 100}}},
        "systems": systems,
        **extra,
    }
    if corpus:
        raw["corpus"] = {"path": "corpus"}
    return parse_suite(raw, base_dir=Path(suite_dir))


def build(suite, name, suite_dir, **extras):
    examples = [Example(id=r["id"], input=r["input"], **{k: v for k, v in r.items() if k not in ("id", "input")})
                for r in suite.dataset.inline]
    context = SystemContext(name=name, suite=suite, gateway=Gateway(), train=[], test=examples,
                            cache_dir=Path(suite_dir) / "cache", extras=extras)
    config = suite.systems[name]
    return load_system_kinds().get(config.kind).factory(config, context), examples


def answer(system, example):
    async def run():
        if hasattr(system, "setup"):
            await system.setup()
        return await system.respond(example)

    return asyncio.run(run())


def test_rag_prompt_has_numbered_contexts_with_sources(suite_dir):
    suite = make_suite(suite_dir, {"rag": {"kind": "rag", "model": "scripted/echo", "retrieval": "main"}})
    system, examples = build(suite, "rag", suite_dir)
    response = answer(system, examples[0])
    assert response.error is None
    text = response.text
    assert "[1] source: returns-policy.md#1\n## Return Window\n\nYou can return any device within 45 days" in text
    assert "[2] source: " in text and "[3]" not in text
    assert text.endswith(f"Question: {QUESTION}\nAnswer:")
    first = response.retrieved[0]
    assert (first.chunk_id, first.doc_id, first.rank) == ("returns-policy.md#1", "returns-policy.md", 1)
    assert first.text.startswith("## Return Window") and first.score > 0
    assert [c.rank for c in response.retrieved] == [1, 2]
    assert response.retrieved_doc_ids[0] == "returns-policy.md"
    timings = response.timings
    assert timings.retrieval_s is not None and timings.generation_s is not None
    assert timings.total_s == pytest.approx(timings.retrieval_s + timings.generation_s)
    assert response.metadata["retrieval"] == {"retriever": "bm25", "top_k": 2, "no_context": False}
    assert "declined" not in response.metadata


def test_overrides_and_sweeps_on_a_shared_block(suite_dir):
    suite = make_suite(suite_dir, {
        "rag": {"kind": "rag", "model": "scripted/echo", "retrieval": {"use": "main"}, "sweep": {"retrieval.top_k": [1, 2]}},
    })
    assert list(suite.systems) == ["rag[top_k=1]", "rag[top_k=2]"]
    assert resolve_suite_retrieval(suite) == []
    resolved = suite.systems["rag[top_k=2]"].retrieval
    assert (resolved.use, resolved.top_k, resolved.chunking.strategy) == ("main", 2, "heading")
    one, examples = build(suite, "rag[top_k=1]", suite_dir)
    two, _ = build(suite, "rag[top_k=2]", suite_dir)
    assert len(answer(one, examples[0]).retrieved) == 1
    assert len(answer(two, examples[0]).retrieved) == 2
    # both variants read the same index: one build, shared in memory
    assert one.stage._retriever.chunks is two.stage._retriever.chunks


def test_hybrid_with_threshold_reports_no_context(suite_dir):
    systems = {"rag": {"kind": "rag", "model": "scripted/echo",
                       "retrieval": {"use": "main", "retriever": "hybrid", "min_score": 0.99, "embedding_model": "fake/bow"}}}
    system, examples = build(make_suite(suite_dir, systems), "rag", suite_dir, embed=FakeEmbedder())
    response = answer(system, examples[0])
    assert response.retrieved == []
    assert "Context:\n(no relevant context found)\n\nQuestion:" in response.text
    assert response.metadata["retrieval"]["no_context"] is True
    assert response.metadata["declined"] == "no_relevant_context"  # the abstention metrics count it


def test_dense_uses_the_injected_embedder(suite_dir):
    embed = FakeEmbedder()
    systems = {"rag": {"kind": "rag", "model": "scripted/echo",
                       "retrieval": {"retriever": "dense", "top_k": 1, "embedding_model": "fake/bow"}}}
    system, _ = build(make_suite(suite_dir, systems), "rag", suite_dir, embed=embed)
    response = answer(system, Example(id="x", input="where is the cat Pixel"))
    assert response.retrieved[0].doc_id == "office/cat.md"
    assert embed.calls == 2  # one build batch, one query


def test_custom_template_without_context_gets_it(suite_dir):
    systems = {"rag": {"kind": "rag", "model": "scripted/echo", "retrieval": "main",
                       "prompt": {"template": "Q: {{input}}"}}}
    system, examples = build(make_suite(suite_dir, systems), "rag", suite_dir)
    assert answer(system, examples[0]).text.startswith("Context:\n[1] source: returns-policy.md#1")


def test_unknown_placeholder_is_an_error(suite_dir):
    systems = {"rag": {"kind": "rag", "model": "scripted/echo", "prompt": {"template": "{{contexts}} {{input}}"}}}
    with pytest.raises(ConfigError, match="unknown placeholder"):
        build(make_suite(suite_dir, systems), "rag", suite_dir)


def test_unknown_block_name_says_where_and_what_is_known(suite_dir):
    with pytest.raises(SuiteError) as caught:
        make_suite(suite_dir, {"rag": {"kind": "rag", "model": "scripted/echo", "retrieval": "x"}})
    assert caught.value.problems == ["systems.rag.retrieval: no retrieval block named 'x' (known: main)"]


@pytest.mark.parametrize(
    "retrieval, message",
    [
        ({"use": "main", "top_k": 0}, "systems.rag.retrieval.top_k: input should be greater than 0"),
        ({"top_k": -2}, "systems.rag.retrieval.top_k: input should be greater than 0"),
        ({"retriever": "sparse"}, "systems.rag.retrieval.retriever: input should be 'bm25', 'dense' or 'hybrid'"),
        ({"chunking": {"strategy": "fixed", "size": 10, "overlap": 10}},
         "systems.rag.retrieval: chunking.overlap (10) must be less than chunking.size (10)"),
        ({"min_score": 0.5}, "systems.rag.retrieval: min_score is a cosine similarity"),
        ({"use": "main", "topk": 3}, "systems.rag.retrieval.topk: unknown key"),
        (7, "systems.rag.retrieval: must be the name of a retrieval block or a mapping"),
    ],
)
def test_invalid_retrieval_config_says_where(suite_dir, retrieval, message):
    with pytest.raises(SuiteError) as caught:
        make_suite(suite_dir, {"rag": {"kind": "rag", "model": "scripted/echo", "retrieval": retrieval}})
    assert message in str(caught.value)


def test_override_that_breaks_the_block_is_reported_with_the_system(suite_dir):
    systems = {"rag": {"kind": "rag", "model": "scripted/echo",
                       "retrieval": {"use": "main", "chunking": {"strategy": "fixed", "overlap": 150}}}}
    problem = "systems.rag.retrieval: chunking.overlap (150) must be less than chunking.size (100)"
    with pytest.raises(SuiteError) as caught:
        make_suite(suite_dir, systems)
    assert caught.value.problems == [problem]


def test_rag_without_corpus_is_a_config_error(suite_dir):
    suite = make_suite(suite_dir, {"rag": {"kind": "rag", "model": "scripted/echo"}}, corpus=False)
    with pytest.raises(ConfigError, match="needs a corpus"):
        build(suite, "rag", suite_dir)


def test_missing_reference_docs_warn_but_do_not_fail(suite_dir):
    rows = [{"id": "q1", "input": QUESTION, "reference_doc_ids": ["returns-policy.md", "gone.md", "lost.md"]}]
    suite = make_suite(suite_dir, {"rag": {"kind": "rag", "model": "scripted/echo"}}, rows=rows)
    system, _ = build(suite, "rag", suite_dir)
    assert system.warnings == ["corpus: 2 reference document id(s) in the dataset are not in the corpus: gone.md, lost.md"]


def test_oracle_pastes_the_reference_documents(suite_dir):
    rows = [
        {"id": "q1", "input": QUESTION, "reference_doc_ids": ["shipping.md", "returns-policy.md"]},
        {"id": "q2", "input": "Who?", "reference_contexts": ["Pixel is the cat."], "reference_doc_ids": ["office/cat.md"]},
        {"id": "q3", "input": "Unanswerable?"},
    ]
    suite = make_suite(suite_dir, {"oracle": {"kind": "oracle", "model": "scripted/echo"}}, rows=rows)
    system, examples = build(suite, "oracle", suite_dir)
    first = answer(system, examples[0])
    assert [c.doc_id for c in first.retrieved] == ["shipping.md", "returns-policy.md"]
    assert [c.rank for c in first.retrieved] == [1, 2]
    assert "[1] source: shipping.md\n# Shipping\n\nOrders to the European Union" in first.text
    assert "[2] source: returns-policy.md\n# Returns Policy" in first.text
    assert first.timings.retrieval_s is None and first.timings.total_s == first.timings.generation_s
    second = answer(system, examples[1])
    assert "[1] source: office/cat.md\nPixel is the cat." in second.text
    third = answer(system, examples[2])
    assert third.retrieved == [] and "(no relevant context found)" in third.text
    assert third.metadata["oracle"]["no_reference"] is True


def test_oracle_needs_a_corpus_only_for_doc_ids(suite_dir):
    rows = [{"id": "q", "input": "Who?", "reference_contexts": ["Pixel is the cat."]}]
    suite = make_suite(suite_dir, {"oracle": {"kind": "oracle", "model": "scripted/echo"}}, rows=rows, corpus=False)
    system, examples = build(suite, "oracle", suite_dir)
    assert answer(system, examples[0]).retrieved[0].doc_id == "reference_contexts[0]"
    rows = [{"id": "q", "input": "Who?", "reference_doc_ids": ["office/cat.md"]}]
    suite = make_suite(suite_dir, {"oracle": {"kind": "oracle", "model": "scripted/echo"}}, rows=rows, corpus=False)
    with pytest.raises(ConfigError, match="needs a corpus"):
        build(suite, "oracle", suite_dir)
