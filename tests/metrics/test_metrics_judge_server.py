"""The ragas LLM judge end to end over HTTP: litellm -> an OpenAI-compatible server on 127.0.0.1
(harness.testing.fake_openai) that answers ragas' statement and verdict prompts the way a real
judge does. Scores, the audit trail, and malformed replies (an `error` score, never NaN)."""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.gateway import Gateway, GenerationParams
from harness.gateway.retry import RetryPolicy
from harness.metrics.base import MetricContext
from harness.metrics.faithfulness import Faithfulness, FaithfulnessConfig
from harness.testing.fake_openai import FakeOpenAI, Reply, Request
from harness.types import Example, Response, RetrievedChunk

pytest.importorskip("ragas")

QUESTION = "How long is the warranty and what does it cover?"
ANSWER = "The warranty lasts 2 years. It covers water damage."
CONTEXT = "All devices carry a warranty that lasts 2 years from delivery. It covers defects in materials."
_INPUT = re.compile(r"Now perform the same with the following input\s*input:\s*(\{.*\})\s*Output:\s*$", re.DOTALL)


def task_input(request: Request) -> dict:
    """The JSON input ragas puts at the end of its prompt (the few-shot examples come before);
    on a re-ask the prompt is the first message and the last one says what was wrong."""
    prompt = request.body["messages"][0]["content"]
    match = _INPUT.search(prompt)
    assert match, f"unexpected judge prompt: {prompt[-300:]}"
    return json.loads(match.group(1))


def honest_judge(request: Request) -> str:
    """Statements: the answer's sentences. Verdicts: 1 when every longer word is in the context."""
    data = task_input(request)
    if "answer" in data:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", data["answer"]) if s.strip()]
        return json.dumps({"statements": sentences})
    context = data["context"].lower()
    verdicts = []
    for statement in data["statements"]:
        missing = [w for w in re.findall(r"[a-z0-9]+", statement.lower()) if len(w) > 3 and w not in context]
        verdicts.append({
            "statement": statement,
            "reason": f"not in the context: {', '.join(missing)}" if missing else "stated in the context",
            "verdict": 0 if missing else 1,
        })  # fmt: skip
    return json.dumps({"statements": verdicts})


@pytest.fixture
def judge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-judge")


def score_with(server: FakeOpenAI, tmp_path: Path, answer: str = ANSWER):
    params = GenerationParams(max_tokens=1024, extra={"api_base": server.url})
    context = MetricContext(
        suite=SimpleNamespace(judge=SimpleNamespace(params=params)),  # type: ignore[arg-type]
        gateway=Gateway(retry=RetryPolicy(max_attempts=2, initial_delay_s=0.0, max_delay_s=0.0)),
        cache_dir=tmp_path, judge_model="openai/fake-judge",
        extras={"judge_audit_path": tmp_path / "run" / "judge_audit.jsonl"},
    )  # fmt: skip
    metric = Faithfulness(FaithfulnessConfig(type="faithfulness"), context)
    response = Response(text=answer, retrieved=[RetrievedChunk(chunk_id="w#0", doc_id="w.md", rank=1, text=CONTEXT)])
    [score] = asyncio.run(metric.score(Example(id="e1", input=QUESTION), response))
    assert score.value is None or math.isfinite(score.value)
    return score


def audit_lines(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "run" / "judge_audit.jsonl").read_text().splitlines()]


def test_judge_over_http_scores_claims_and_audits(tmp_path: Path, judge_env: None) -> None:
    with FakeOpenAI(reply=honest_judge) as server:
        assert server.url.startswith("http://127.0.0.1:")
        score = score_with(server, tmp_path)
        requests = server.chat_requests()
    assert score.status == "ok" and score.value == 0.5  # 2 years: stated; water damage: not
    d = score.detail
    assert d["judge"] == "llm" and d["judge_id"] == "openai/fake-judge" and d["judge_version"].startswith("ragas-")
    assert d["statements"] == ["The warranty lasts 2 years.", "It covers water damage."]
    assert [v["verdict"] for v in d["verdicts"]] == [1, 0] and "water, damage" in d["verdicts"][1]["reason"]
    assert d["agreement"] is None  # the LLM judge has not been measured on the labelled cases
    assert len(requests) == 2 and all(r.body["model"] == "fake-judge" for r in requests)
    assert requests[0].headers["authorization"] == "Bearer sk-fake-judge"
    assert task_input(requests[1])["context"] == CONTEXT
    audit = audit_lines(tmp_path)
    assert [a["step"] for a in audit] == ["StatementGeneratorOutput", "NLIStatementOutput"]
    assert [a["ok"] for a in audit] == [True, True] and audit[0]["judge"] == "openai/fake-judge"
    assert ANSWER in audit[0]["prompt"] and json.loads(audit[0]["reply"])["statements"] == d["statements"]
    assert audit[1]["reply"] == honest_judge(requests[1])
    assert {a["call_id"] for a in audit} == {c["call_id"] for c in d["calls"]}


def test_fully_supported_answer_scores_one(tmp_path: Path, judge_env: None) -> None:
    with FakeOpenAI(reply=honest_judge) as server:
        score = score_with(server, tmp_path, answer="The warranty lasts 2 years from delivery.")
    assert score.status == "ok" and score.value == 1.0


def test_malformed_judge_reply_is_an_error_with_reason(tmp_path: Path, judge_env: None) -> None:
    with FakeOpenAI(reply=lambda request: "The answer looks mostly faithful to me.") as server:
        score = score_with(server, tmp_path)
        calls = len(server.chat_requests())
    assert score.status == "error" and score.value is None
    assert "StatementGeneratorOutput after 3 attempts" in score.reason and "not valid JSON" in score.reason
    assert calls == 3  # the first ask and two re-asks, each a real HTTP request
    audit = audit_lines(tmp_path)
    assert len(audit) == 3 and not any(a["ok"] for a in audit) and audit[-1]["reply"].startswith("The answer looks")


def test_wrong_verdict_shape_and_broken_http_body_are_errors(tmp_path: Path, judge_env: None) -> None:
    def no_verdict_field(request: Request) -> str:
        data = task_input(request)
        if "answer" in data:
            return honest_judge(request)
        return json.dumps({"statements": [{"statement": s, "reason": "r"} for s in data["statements"]]})

    with FakeOpenAI(reply=no_verdict_field) as server:
        shape = score_with(server, tmp_path)
    assert shape.status == "error" and "does not match NLIStatementOutput" in shape.reason and "verdict" in shape.reason

    with FakeOpenAI(reply=lambda request: Reply(raw=b"<html>bad gateway</html>")) as server:
        broken = score_with(server, tmp_path)
    assert broken.status == "error" and broken.value is None and broken.reason.startswith("judge call failed:")


def test_empty_statement_list_is_undefined(tmp_path: Path, judge_env: None) -> None:
    with FakeOpenAI(reply=lambda request: '{"statements": []}') as server:
        score = score_with(server, tmp_path)
        calls = len(server.chat_requests())
    assert (score.status, score.reason) == ("undefined", "no claims") and calls == 1
