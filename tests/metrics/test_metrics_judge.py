"""The LLM judge path (ragas Faithfulness / FactualCorrectness through the gateway), driven by
scripted judge models: each failure mode lands as the right status with its reason."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import ConfigError
from harness.gateway import Gateway, GenerationParams
from harness.gateway.cache import ResponseCache
from harness.gateway.retry import RetryPolicy
from harness.gateway.scripted import register_script
from harness.metrics.base import MetricContext
from harness.metrics.correctness import FactualCorrectness, FactualCorrectnessConfig
from harness.metrics.faithfulness import Faithfulness, FaithfulnessConfig
from harness.types import Example, Response, RetrievedChunk

pytest.importorskip("ragas")

STATEMENTS_PROMPT = "fully understandable statements"
VERDICTS_PROMPT = "judge the faithfulness of a series of statements"
TWO_STATEMENTS = '{"statements": ["The warranty lasts 2 years.", "The warranty covers water damage."]}'
TWO_VERDICTS = json.dumps(
    {
        "statements": [
            {"statement": "The warranty lasts 2 years.", "reason": "stated", "verdict": 1},
            {"statement": "The warranty covers water damage.", "reason": "not stated", "verdict": 0},
        ]
    }
)
EXAMPLE = Example(id="e1", input="How long is the warranty?", reference="2 years")
RESPONSE = Response(
    text='{"answer": "The warranty lasts 2 years and covers water damage.", "sources": ["w.md"]}',
    retrieved=[RetrievedChunk(chunk_id="w#0", doc_id="w.md", rank=1, text="The warranty lasts 2 years.")],
)


def judge_script(name: str, statements: str, verdicts: str = TWO_VERDICTS, **spec) -> str:
    register_script(
        name,
        {
            "rules": [{"match": STATEMENTS_PROMPT, "output": statements}, {"match": VERDICTS_PROMPT, "output": verdicts}],
            "default": statements,  # re-asks get the same reply: a judge that keeps failing
            **spec,
        },
    )
    return f"scripted/{name}"


def make_context(tmp_path: Path, model: str | None, gateway: Gateway | None = None) -> MetricContext:
    suite = SimpleNamespace(judge=SimpleNamespace(params=GenerationParams(max_tokens=4096)), answer_format=None)
    gateway = gateway or Gateway(retry=RetryPolicy(max_attempts=2, initial_delay_s=0.0, max_delay_s=0.0))
    return MetricContext(
        suite=suite, gateway=gateway, cache_dir=tmp_path, judge_model=model,  # type: ignore[arg-type]
        extras={"judge_audit_path": tmp_path / "run" / "judge_audit.jsonl"},
    )  # fmt: skip


def faithfulness(tmp_path: Path, model: str, gateway: Gateway | None = None, response: Response = RESPONSE):
    metric = Faithfulness(FaithfulnessConfig(type="faithfulness"), make_context(tmp_path, model, gateway))
    [score] = asyncio.run(metric.score(EXAMPLE, response))
    return score


def test_valid_judge_json_scores_and_audits(tmp_path: Path) -> None:
    score = faithfulness(tmp_path, judge_script("j_valid", TWO_STATEMENTS))
    assert score.status == "ok" and score.value == 0.5
    d = score.detail
    assert d["judge"] == "llm" and d["judge_id"] == "scripted/j_valid" and d["judge_version"].startswith("ragas-0.4")
    assert len(d["statements"]) == 2 and [v["verdict"] for v in d["verdicts"]] == [1, 0]
    assert d["source"] == "json:answer" and [c["step"] for c in d["calls"]] == ["StatementGeneratorOutput", "NLIStatementOutput"]
    audit = [json.loads(line) for line in Path(d["audit_file"]).read_text().splitlines()]
    assert len(audit) == 2 and audit[0]["judge"] == "scripted/j_valid"
    assert STATEMENTS_PROMPT in audit[0]["prompt"] and "covers water damage" in audit[0]["prompt"]
    assert audit[0]["reply"] == TWO_STATEMENTS and audit[1]["reply"] == TWO_VERDICTS
    assert {a["call_id"] for a in audit} == {c["call_id"] for c in d["calls"]}


def test_invalid_json_is_an_error_after_reasks(tmp_path: Path) -> None:
    score = faithfulness(tmp_path, judge_script("j_prose", "I think the answer is mostly faithful."))
    assert score.status == "error" and score.value is None
    assert "after 3 attempts" in score.reason and "not valid JSON" in score.reason
    assert [c["attempt"] for c in score.detail["calls"]] == [1, 2, 3]


def test_truncated_json_says_truncated(tmp_path: Path) -> None:
    score = faithfulness(tmp_path, judge_script("j_cut", '{"statements": ["The warranty lasts 2 ye'))
    assert score.status == "error" and "truncated" in score.reason and "max_tokens" in score.reason


def test_wrong_shape_json_names_the_field(tmp_path: Path) -> None:
    score = faithfulness(tmp_path, judge_script("j_shape", '{"claims": ["x"]}'))
    assert score.status == "error" and "does not match StatementGeneratorOutput: statements" in score.reason


def test_reask_recovers(tmp_path: Path) -> None:
    register_script(
        "j_reask",
        {"rules": [
            {"match": "could not be used", "output": TWO_STATEMENTS},
            {"match": STATEMENTS_PROMPT, "output": "Sure! Here are the statements."},
            {"match": VERDICTS_PROMPT, "output": "```json\n" + TWO_VERDICTS + "\n```"},
        ]},
    )  # fmt: skip
    score = faithfulness(tmp_path, "scripted/j_reask")
    assert score.status == "ok" and score.value == 0.5
    assert [(c["step"], c["attempt"]) for c in score.detail["calls"]][:2] == [("StatementGeneratorOutput", 1), ("StatementGeneratorOutput", 2)]


def test_timeouts_are_errors_with_reason(tmp_path: Path) -> None:
    model = judge_script("j_slow", TWO_STATEMENTS, timeout_rate=1.0)
    gateway = Gateway(timeout_s=0.2, retry=RetryPolicy(max_attempts=2, initial_delay_s=0.0, max_delay_s=0.0))
    score = faithfulness(tmp_path, model, gateway)
    assert score.status == "error" and score.reason.startswith("judge call failed:")
    assert "no reply within 0.2 s after 2 attempts" in score.reason


def test_empty_statement_list_is_undefined_no_claims(tmp_path: Path) -> None:
    score = faithfulness(tmp_path, judge_script("j_empty", '{"statements": []}'))
    assert score.status == "undefined" and score.reason == "no claims" and score.value is None


def test_verdict_count_mismatch_is_an_error(tmp_path: Path) -> None:
    one_verdict = '{"statements": [{"statement": "x", "reason": "r", "verdict": 1}]}'
    score = faithfulness(tmp_path, judge_script("j_short", TWO_STATEMENTS, one_verdict))
    assert score.status == "error" and "1 verdicts for 2 statements" in score.reason


def test_no_contexts_is_undefined_without_calling_the_judge(tmp_path: Path) -> None:
    model = judge_script("j_unused", TWO_STATEMENTS)
    for retrieved in (None, []):
        score = faithfulness(tmp_path, model, response=Response(text="x", retrieved=retrieved))
        assert (score.status, score.reason) == ("undefined", "no contexts")


def test_judge_cache_reuses_valid_replies_only(tmp_path: Path) -> None:
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path / "cache"))
    model = judge_script("j_cached", TWO_STATEMENTS)
    first = faithfulness(tmp_path, model, gateway)
    second = faithfulness(tmp_path, model, gateway)
    assert first.value == second.value == 0.5
    assert [c["cached"] for c in first.detail["calls"]] == [False, False]
    assert [c["cached"] for c in second.detail["calls"]] == [True, True]
    bad = judge_script("j_cached_bad", "not json")
    faithfulness(tmp_path, bad, gateway)
    again = faithfulness(tmp_path, bad, gateway)
    assert again.status == "error" and not any(c["cached"] for c in again.detail["calls"])


def test_llm_judge_requires_a_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Faithfulness(FaithfulnessConfig(type="faithfulness", judge="llm"), make_context(tmp_path, None))


def test_factual_correctness(tmp_path: Path) -> None:
    register_script(
        "j_facts",
        {"rules": [
            {"match": r'"response": "Paris is the capital', "output": '{"claims": ["Paris is the capital of France.", "Paris has 9 million people."]}'},
            {"match": r'"response": "The capital of France is Paris', "output": '{"claims": ["The capital of France is Paris."]}'},
            {"match": r'"context": "The capital of France is Paris', "output": json.dumps({"statements": [
                {"statement": "a", "reason": "r", "verdict": 1}, {"statement": "b", "reason": "r", "verdict": 0}]})},
            {"match": r'"context": "Paris is the capital', "output": json.dumps({"statements": [
                {"statement": "c", "reason": "r", "verdict": 1}]})},
        ]},
    )  # fmt: skip
    example = Example(id="f", input="What is the capital of France?", reference="The capital of France is Paris.")
    response = Response(text="Paris is the capital of France and has 9 million people.")
    context = make_context(tmp_path, "scripted/j_facts")
    metric = FactualCorrectness(FactualCorrectnessConfig(type="factual_correctness"), context)
    [score] = asyncio.run(metric.score(example, response))
    assert score.status == "ok" and score.value == pytest.approx(0.67)  # tp=1 fp=1 fn=0
    assert score.detail["answer_claims"] == ["Paris is the capital of France.", "Paris has 9 million people."]
    no_judge = FactualCorrectness(FactualCorrectnessConfig(type="factual_correctness"), make_context(tmp_path, None))
    [missing] = asyncio.run(no_judge.score(example, response))
    assert missing.status == "error" and "no judge model" in missing.reason
    [no_ref] = asyncio.run(metric.score(Example(id="g", input="q"), response))
    assert no_ref.status == "undefined"


def test_context_precision_and_recall_llm(tmp_path: Path) -> None:
    from harness.metrics.faithfulness.context_llm import ContextLLM, ContextPrecisionLLMConfig, ContextRecallLLMConfig

    register_script(
        "j_context",
        {"rules": [
            {"match": r'"context": "Useful passage', "output": '{"reason": "helps", "verdict": 1}'},
            {"match": r'"context": "Noise passage', "output": '{"reason": "unrelated", "verdict": 0}'},
            {"match": r"classif", "output": json.dumps({"classifications": [
                {"statement": "s1", "reason": "r", "attributed": 1}, {"statement": "s2", "reason": "r", "attributed": 0}]})},
        ]},
    )  # fmt: skip
    context = make_context(tmp_path, "scripted/j_context")
    precision = ContextLLM(ContextPrecisionLLMConfig(type="context_precision_llm"), context)
    recall = ContextLLM(ContextRecallLLMConfig(type="context_recall_llm"), context)
    retrieved = [
        RetrievedChunk(chunk_id="a", doc_id="a", rank=1, text="Noise passage."),
        RetrievedChunk(chunk_id="b", doc_id="b", rank=2, text="Useful passage."),
    ]
    response = Response(text="2 years", retrieved=retrieved)
    [p] = asyncio.run(precision.score(EXAMPLE, response))
    assert p.status == "ok" and p.value == pytest.approx(0.5) and p.detail["against"] == "reference"
    [r] = asyncio.run(recall.score(EXAMPLE, response))
    assert r.status == "ok" and r.value == 0.5
    [none] = asyncio.run(recall.score(EXAMPLE, Response(text="x", retrieved=None)))
    assert (none.status, none.reason) == ("undefined", "system does not retrieve")
    no_judge = ContextLLM(ContextRecallLLMConfig(type="context_recall_llm"), make_context(tmp_path, None))
    assert asyncio.run(no_judge.score(EXAMPLE, response))[0].status == "error"
