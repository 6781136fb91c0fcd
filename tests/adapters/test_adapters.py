"""The built-in system kinds: prompt, few-shot, replay and custom (callable and HTTP endpoint)."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import write_jsonl
from harness.data.datasets import load_dataset
from harness.errors import ConfigError, SuiteError
from harness.gateway import Gateway
from harness.suite.loader import parse_suite
from harness.systems import SystemContext, load_system_kinds
from harness.types import Example

TRAIN = [{"id": f"t{i}", "input": f"train question {i}", "reference": f"answer {i}", "split": "train"} for i in range(6)]


def build(tmp_path: Path, system: dict[str, Any], gateway: Gateway | None = None, **suite_extra: Any) -> Any:
    raw = {"name": "t", "dataset": {"inline": [{"id": "x", "input": "what is it?", "reference": "it"}, *TRAIN]}, "systems": {"s": system}, **suite_extra}
    suite = parse_suite(raw, base_dir=tmp_path)
    data = load_dataset(suite)
    context = SystemContext(name="s", suite=suite, gateway=gateway or Gateway(), train=data.train, test=data.test, cache_dir=tmp_path)
    config = suite.systems["s"]
    return load_system_kinds().get(config.kind).factory(config, context)


def respond(system: Any, example: Example | None = None) -> Any:
    return asyncio.run(system.respond(example or Example(id="x", input="what is it?", reference="it")))


def test_prompt_renders_system_and_template(tmp_path: Path) -> None:
    system = build(
        tmp_path,
        {"kind": "prompt", "model": "scripted/echo", "prompt": {"system": "Be brief.", "template": "Q: {{input}} ({{metadata.topic}})\nA:"}},
        dataset={"inline": [{"id": "x", "input": "why?", "topic": "sky"}]},
    )
    response = respond(system, Example(id="x", input="why?", metadata={"topic": "sky"}))
    assert response.text == "Q: why? (sky)\nA:"
    assert response.metadata["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert response.timings.generation_s is not None and response.timings.retrieval_s is None


def test_unknown_placeholder_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, {"kind": "prompt", "model": "scripted/echo", "prompt": {"template": "{{question}}"}})
    assert "systems.s.prompt.template: unknown placeholder {{question}}" in str(caught.value)


def test_structured_output_needs_a_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="systems.s.structured_output: needs answer_format.schema"):
        build(tmp_path, {"kind": "prompt", "model": "scripted/echo", "structured_output": True})


def test_answer_format_output_is_parsed(tmp_path: Path) -> None:
    from harness.gateway.scripted import register_script

    register_script("jsonbot", {"default": '{"answer": "it", "sources": []}'})
    system = build(tmp_path, {"kind": "prompt", "model": "scripted/jsonbot"}, answer_format={"schema": {"type": "object"}})
    assert respond(system).parsed == {"answer": "it", "sources": []}


def test_few_shot_fixed_random_and_explicit(tmp_path: Path) -> None:
    fixed = build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 2})
    assert respond(fixed).text == "Question: train question 0\nAnswer: answer 0\n\nQuestion: train question 1\nAnswer: answer 1\n\nwhat is it?"
    chosen = build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 2, "example_ids": ["t4", "t2"]})
    assert respond(chosen).metadata["shot_ids"] == ["t4", "t2"]
    random_a = build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 3, "selection": "random", "seed": 1})
    random_b = build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 3, "selection": "random", "seed": 1})
    ids = respond(random_a).metadata["shot_ids"]
    assert ids == respond(random_b).metadata["shot_ids"] and len(set(ids)) == 3
    with pytest.raises(ConfigError, match="needs 9 train examples with a reference, the dataset has 6"):
        build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 9})
    with pytest.raises(ConfigError, match="not in the train split: nope"):
        build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 1, "example_ids": ["nope"]})


class KeywordEmbeddings(Gateway):
    """Embeds by counting a few keywords: enough to make similarity selection checkable."""

    WORDS = ["0", "1", "2", "3", "4", "5"]

    async def embed(self, model: str, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        rows = np.array([[float(w in t.split()) for w in self.WORDS] + [0.1] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_few_shot_similar_picks_nearest_train_inputs(tmp_path: Path) -> None:
    system = build(tmp_path, {"kind": "few_shot", "model": "scripted/echo", "k": 1, "selection": "similar"}, gateway=KeywordEmbeddings())
    response = respond(system, Example(id="x", input="question about 4"))
    assert response.metadata["shot_ids"] == ["t4"]


def test_replay_reads_outputs_and_retrieved_ids(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "out.jsonl", [{"example": "x", "answer": "it", "docs": ["d2", "d1"], "ms": 0.25}])
    system = build(tmp_path, {"kind": "replay", "path": "out.jsonl", "id_field": "example", "output_field": "answer", "retrieved_ids_field": "docs", "latency_field": "ms"})
    response = respond(system)
    assert response.text == "it" and response.retrieved_doc_ids == ["d2", "d1"] and response.timings.total_s == 0.25
    with pytest.raises(LookupError, match="no replayed output for example id 'other'"):
        respond(system, Example(id="other", input="?"))
    with pytest.raises(ConfigError, match="replay file not found"):
        build(tmp_path, {"kind": "replay", "path": "absent.jsonl"})


def test_replay_ranks_scored_documents_as_trec_eval_does(tmp_path: Path) -> None:
    # stored in document order; by score b (0.9) leads, and the tie a/c (0.3) goes to c (id descending)
    write_jsonl(tmp_path / "out.jsonl", [
        {"id": "x", "output": "it", "docs": [{"id": "a", "score": 0.3}, {"id": "b", "score": 0.9}, {"id": "c", "score": 0.3}]},
        {"id": "t0", "output": "-", "docs": ["d1", "d2", "d1"]},
        {"id": "unused", "output": "-", "docs": [{"id": "a", "score": 0.1}, {"id": "b", "score": 0.2}]},
    ])  # fmt: skip
    system = build(tmp_path, {"kind": "replay", "path": "out.jsonl", "retrieved_ids_field": "docs"})
    response = respond(system)
    assert response.retrieved_doc_ids == ["b", "c", "a"] and [c.score for c in response.retrieved] == [0.9, 0.3, 0.3]
    assert response.metadata["ranking"] == {"order": "score", "resorted": True, "contradictions": 1, "duplicates": 0}
    # counted over the test examples only (t0 is a train row, `unused` is not in the dataset)
    assert system.warnings[0] == "systems.s.path: 1 of 3 rows have ids that are not in the dataset (unused)"
    assert system.warnings[1:] == [
        (
            "systems.s: 1 of 1 rankings list documents in an order their scores contradict (1 adjacent pair(s) "
            "with a higher score listed later); ranked by score, as trec_eval does"
        )
    ]


def test_replay_rejects_a_bad_ranking_at_load_with_its_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "out.jsonl", [{"id": "x", "output": "it", "docs": [{"id": "a", "score": 1}, {"id": "b"}]}])
    with pytest.raises(ConfigError, match=r"out.jsonl:1: docs: entry 1 has no score while others do") as caught:
        build(tmp_path, {"kind": "replay", "path": "out.jsonl", "retrieved_ids_field": "docs"})
    assert caught.value.where == "systems.s.path"


def test_custom_scored_ranking_contexts_and_declines(tmp_path: Path) -> None:
    (tmp_path / "scored_system.py").write_text(
        "def answer(example):\n"
        "    return {'answer': 'x', 'contexts': ['A text', 'B text'],\n"
        "            'retrieved_doc_ids': [{'id': 'a', 'score': 0.2}, {'id': 'b', 'score': 0.7}]}\n"
        "def no_answer(example):\n    return {'answer': None, 'retrieved_doc_ids': ['a', 'a']}\n"
        "def refuse(example):\n    return {'answer': 'sorry', 'declined': 'out of scope'}\n"
        "def broken(example):\n    return {'answer': 'x', 'retrieved_doc_ids': [{'id': 'a', 'score': 'high'}]}\n"
    )
    system = build(tmp_path, {"kind": "custom", "function": "scored_system:answer"})
    response = respond(system)
    assert [(c.doc_id, c.text, c.score) for c in response.retrieved] == [("b", "B text", 0.7), ("a", "A text", 0.2)]
    assert response.metadata["ranking"]["contradictions"] == 1 and "declined" not in response.metadata
    assert "1 of 1 rankings list documents in an order their scores contradict" in system.warnings[0]
    none = build(tmp_path, {"kind": "custom", "function": "scored_system:no_answer"})
    declined = respond(none)
    assert (declined.text, declined.metadata["declined"], declined.retrieved_doc_ids) == ("", "answer is null", ["a"])
    assert none.warnings == ["systems.s: 1 of 1 rankings list a document more than once (1 repeat(s)); each document counted once, at its best rank"]
    assert respond(build(tmp_path, {"kind": "custom", "function": "scored_system:refuse"})).metadata["declined"] == "out of scope"
    with pytest.raises(ValueError, match="retrieved_doc_ids: entry 0 \\('a'\\) has score 'high'"):
        respond(build(tmp_path, {"kind": "custom", "function": "scored_system:broken"}))


def test_custom_function_sync_and_async(tmp_path: Path) -> None:
    (tmp_path / "my_system.py").write_text(
        "import asyncio\n"
        "def answer(example, suffix='!'):\n    return {'answer': example.input.upper() + suffix, 'retrieved_doc_ids': ['a', 'b', 'a']}\n"
        "async def answer_async(example):\n    await asyncio.sleep(0)\n    return 'async ' + example.id\n"
    )
    sync = build(tmp_path, {"kind": "custom", "function": "my_system:answer", "options": {"suffix": "?"}})
    response = respond(sync)
    assert response.text == "WHAT IS IT??" and response.retrieved_doc_ids == ["a", "b"]
    assert respond(build(tmp_path, {"kind": "custom", "function": "my_system:answer_async"})).text == "async x"
    with pytest.raises(ConfigError, match="module 'my_system' has no function 'missing'"):
        build(tmp_path, {"kind": "custom", "function": "my_system:missing"})


class Handler(http.server.BaseHTTPRequestHandler):
    calls: list[dict] = []
    fail_first = 0

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.calls.append({"body": body, "auth": self.headers.get("Authorization")})
        if Handler.fail_first > 0:
            Handler.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        reply = json.dumps({"data": {"text": f"echo {body['question']}", "sources": ["d9"]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


def test_custom_http_endpoint_with_retry_and_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MY_TOKEN", "secret")
    try:
        Handler.calls, Handler.fail_first = [], 1
        system = build(
            tmp_path,
            {"kind": "custom", "endpoint": {
                "url": f"http://127.0.0.1:{server.server_port}/answer",
                "headers": {"Authorization": "Bearer ${MY_TOKEN}"},
                "body": {"question": "input", "qid": "id"},
                "answer_field": "data.text", "retrieved_ids_field": "data.sources"}},
            settings={"retry": {"max_attempts": 3, "initial_delay_s": 0.001}},
        )
        response = respond(system)
        assert response.text == "echo what is it?" and response.retrieved_doc_ids == ["d9"]
        assert len(Handler.calls) == 2 and Handler.calls[-1] == {"body": {"question": "what is it?", "qid": "x"}, "auth": "Bearer secret"}
    finally:
        server.shutdown()
    monkeypatch.delenv("MY_TOKEN")
    with pytest.raises(SuiteError, match="systems.s.endpoint.headers.X: set the environment variable MY_TOKEN"):
        build(tmp_path, {"kind": "custom", "endpoint": {"url": "http://127.0.0.1:1/x", "headers": {"X": "${MY_TOKEN}"}}})


def test_endpoint_null_answer_is_a_decline_and_a_missing_one_an_error(tmp_path: Path) -> None:
    system = build(tmp_path, {"kind": "custom", "endpoint": {
        "url": "http://127.0.0.1:1/answer", "answer_field": "data.text", "retrieved_ids_field": "data.sources"}})  # fmt: skip
    declined = system._to_response({"data": {"text": None, "sources": [{"id": "d1", "score": 0.1}, {"id": "d2", "score": 0.5}]}}, 0.2)
    assert (declined.text, declined.metadata["declined"], declined.retrieved_doc_ids) == ("", "data.text is null", ["d2", "d1"])
    with pytest.raises(KeyError, match="endpoint reply has no field 'data.text'"):
        system._to_response({"data": {"sources": []}}, 0.2)
