"""Token F1 (SQuAD), semantic similarity through the gateway, and the metric types as suite YAML."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from harness.metrics.base import MetricContext, load_metric_types
from harness.metrics.correctness import SemanticSimilarity, SemanticSimilarityConfig, TokenF1, TokenF1Config, token_f1
from harness.types import Example, Response

ROOT = Path(__file__).resolve().parents[2]


def test_token_f1_values() -> None:
    assert token_f1("The cat sat", "the cat sat.") == (1.0, 1.0, 1.0)
    f1, p, r = token_f1("cat sat on mat", "the cat sat")
    assert (p, r) == (0.5, 1.0) and f1 == pytest.approx(2 / 3)
    assert token_f1("", "") == (1.0, 1.0, 1.0)
    assert token_f1("the", "cat") == (0.0, 0.0, 0.0)  # only an article: empty after normalising
    assert token_f1("dog", "cat")[0] == 0.0
    assert token_f1("a a b", "a b b")[0] == pytest.approx(2 / 3)  # multiset overlap


def test_token_f1_metric_uses_json_field() -> None:
    metric = TokenF1(TokenF1Config(type="token_f1", json_field="answer"))
    example = Example(id="e", input="q", reference="2 years")
    [score] = asyncio.run(metric.score(example, Response(text='{"answer": "2 years", "sources": []}')))
    assert score.value == 1.0 and score.detail["source"] == "json:answer"
    [raw] = asyncio.run(metric.score(example, Response(text="It is 2 years")))
    assert raw.value == pytest.approx(2 * (2 / 4) / (2 / 4 + 1)) and raw.detail["source"] == "raw"
    [undefined] = asyncio.run(metric.score(Example(id="e", input="q"), Response(text="x")))
    assert undefined.status == "undefined"


class Vectors:
    def __init__(self, fail: bool = False):
        self.fail = fail

    async def embed(self, model: str, texts: list[str]) -> np.ndarray:
        if self.fail:
            raise ConnectionError("no such model")
        table = {"two years": [1.0, 0.0], "2 years": [0.8, 0.6], "blue": [0.0, 1.0]}
        return np.asarray([table[t] for t in texts])


def similarity(text: str, reference: str | None, fail: bool = False):
    context = MetricContext(suite=SimpleNamespace(), gateway=Vectors(fail), cache_dir=ROOT)  # type: ignore[arg-type]
    metric = SemanticSimilarity(SemanticSimilarityConfig(type="semantic_similarity"), context)
    [score] = asyncio.run(metric.score(Example(id="e", input="q", reference=reference), Response(text=text)))
    return score


def test_semantic_similarity() -> None:
    assert similarity("two years", "2 years").value == pytest.approx(0.8)
    assert similarity("blue", "two years").value == pytest.approx(0.0)
    failed = similarity("two years", "2 years", fail=True)
    assert failed.status == "error" and "ConnectionError: no such model" in failed.reason
    assert similarity("x", None).status == "undefined"
    assert similarity("", "2 years").value == 0.0


def test_every_metric_type_parses_from_suite_yaml() -> None:
    from harness.suite.loader import parse_suite

    raw = {
        "name": "m",
        "dataset": {"inline": [{"id": "a", "input": "q", "reference": "r"}]},
        "answer_format": {"schema": "answer_schema.json"},
        "systems": {"echo": {"kind": "prompt", "model": "scripted/echo"}},
        "metrics": [
            {"type": "retrieval", "k": [1, 3, 5], "relevance_level": 2},
            "json_valid",
            "json_schema",
            {"type": "json_schema", "name": "inline_schema", "schema": {"type": "object"}},
            {"type": "regex", "pattern": "\\d+"},
            {"type": "choice", "choices": ["yes", "no"]},
            {"type": "field_accuracy", "fields": ["answer"]},
            {"type": "token_f1", "json_field": "answer"},
            "semantic_similarity",
            "factual_correctness",
            {"type": "faithfulness", "offline": {"version": "offline-v1", "lexical_threshold": 0.8, "embedding_model": None}},
            {"type": "abstention", "json_field": "answer", "phrases": ["no idea"]},
        ],
    }
    suite = parse_suite(raw, base_dir=ROOT / "suites" / "demo")
    assert [m.type for m in suite.metrics][:3] == ["retrieval", "json_valid", "json_schema"]
    context = MetricContext(suite=suite, gateway=None, cache_dir=ROOT, judge_model=None)  # type: ignore[arg-type]
    registry = load_metric_types()
    metrics = [registry.get(m.type).factory(m, context) for m in suite.metrics]
    names = [n for m in metrics for n in m.names]
    assert "recall@5" in names and "faithfulness" in names and "inline_schema" in names
    assert "declined_unanswerable" in names and "declined_answerable" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("reference", ["", "   "])
def test_empty_reference_is_undefined_like_a_missing_one(reference: str) -> None:
    from harness.metrics.basic import ExactMatch, ExactMatchConfig

    example = Example(id="e", input="q", reference=reference)
    metrics = [
        TokenF1(TokenF1Config(type="token_f1")),
        ExactMatch(ExactMatchConfig(type="exact_match", mode="contains"), None),  # type: ignore[arg-type]
        ExactMatch(ExactMatchConfig(type="exact_match"), None),  # type: ignore[arg-type]
    ]
    for metric in metrics:
        for text in ("", "Paris"):
            [score] = asyncio.run(metric.score(example, Response(text=text)))
            assert score.status == "undefined" and score.value is None, (metric.names, text)
            assert "reference answer is empty" in score.reason
    assert similarity("two years", reference).status == "undefined"


def test_unanswerable_examples_are_left_to_the_abstention_metrics() -> None:
    marked = Example(id="e", input="q", reference="no answer", answerable=False)
    tagged = Example(id="e", input="q", reference="no answer", tags=["unanswerable"])
    for example in (marked, tagged):
        [score] = asyncio.run(TokenF1(TokenF1Config(type="token_f1")).score(example, Response(text="no answer")))
        assert score.status == "undefined" and score.reason == "example is unanswerable (see the abstention metrics)"
    answerable = Example(id="e", input="q", reference="no answer", tags=["unanswerable"], answerable=True)
    [score] = asyncio.run(TokenF1(TokenF1Config(type="token_f1")).score(answerable, Response(text="no answer")))
    assert score.value == 1.0
