"""Training data for fine-tuning: the prompt is the eval-time prompt, the target the reference in
the suite's answer format; hosted JSONL; the GGUF LoRA writer. No model, no network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.data.datasets import load_dataset
from harness.finetune import config as ft_config
from harness.finetune.config import BaseModelSpec, TrainConfig
from harness.finetune.data import TrainingRecord, data_hash, target_text
from harness.finetune.gguf_lora import pair_lora_weights, read_gguf_lora, write_gguf_lora
from harness.finetune.hosted import hosted_base, manual_instructions, poll_job, write_chat_jsonl
from harness.gateway import Gateway
from harness.local.completion_prompt import render_prompt
from harness.suite.loader import parse_suite
from harness.systems import SystemContext, load_system_kinds
from harness.types import Example

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "sources": {"type": "array", "items": {"type": "string"}}},
    "required": ["answer", "sources"],
}


def rows(n_train: int = 10, n_test: int = 2) -> list[dict]:
    out = []
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            out.append({
                "id": f"{split}{i}", "split": split, "input": f"Which colour is {split} item {i}?",
                "reference": f"colour {i}", "reference_json": {"answer": f"colour {i}", "sources": [f"doc{i}.md"]},
            })
    return out


def build(tmp_path: Path, system: dict, *, answer_format: bool = True, data: list[dict] | None = None, extras=None):
    raw = {"name": "ft", "dataset": {"inline": data if data is not None else rows()}, "systems": {"ft": system}}
    if answer_format:
        raw["answer_format"] = {"schema": SCHEMA, "instructions": "Reply with JSON."}
    suite = parse_suite(raw, base_dir=tmp_path)
    dataset = load_dataset(suite)
    context = SystemContext(
        name="ft", suite=suite, gateway=Gateway(cache=None), train=dataset.train, test=dataset.test,
        cache_dir=tmp_path / "cache", extras=dict(extras or {"progress": False}),
    )
    config = suite.systems["ft"]
    return load_system_kinds().get(config.kind).factory(config, context)


@pytest.fixture
def echo_base(monkeypatch):
    """Let the trainer 'support' scripted/echo, so a system can be served without a real model."""
    real = ft_config.supported_bases

    def bases():
        return {**real(), "scripted/echo": BaseModelSpec("scripted/echo", "gemma3", "0" * 64, lambda: Path("/none"))}

    monkeypatch.setattr(ft_config, "supported_bases", bases)


TEMPLATE = {"system": "You answer questions about colours.", "template": "{{format_instructions}}\nQuestion: {{input}}\nAnswer:"}


async def test_training_prompt_is_the_eval_prompt(tmp_path, echo_base):
    system = build(tmp_path, {"kind": "finetuned", "model": "scripted/echo", "prompt": TEMPLATE, "train": {"steps": 2}})
    records = await system.training_records()
    assert [r.id for r in records] == [f"train{i}" for i in range(10)]
    train_example = system.examples[3]
    sent = (await system.prompt_for(train_example)).messages
    assert records[3].messages == sent
    # what the gateway receives for that example at eval time (before training: plain model call)
    system.config = system.config.model_copy(update={"train": None})
    response = await system.respond(train_example)
    assert response.metadata["prompt"] == records[3].messages
    assert response.text == "Reply with JSON.\nQuestion: Which colour is train item 3?\nAnswer:"
    # the local trainer sees the same text the local provider renders
    assert records[3].prompt_text() == render_prompt(sent)
    assert records[3].prompt_text().startswith("You answer questions about colours.\n\nReply with JSON.")


async def test_target_is_compact_json_with_an_answer_format(tmp_path, echo_base):
    system = build(tmp_path, {"kind": "finetuned", "model": "scripted/echo", "prompt": TEMPLATE, "train": {}})
    record = (await system.training_records())[0]
    assert record.target == '{"answer":"colour 0","sources":["doc0.md"]}'
    assert json.loads(record.target) == {"answer": "colour 0", "sources": ["doc0.md"]}
    assert record.completion_text() == ' {"answer":"colour 0","sources":["doc0.md"]}'  # after "Answer:"


async def test_target_is_reference_text_without_an_answer_format(tmp_path, echo_base):
    system = build(tmp_path, {"kind": "finetuned", "model": "scripted/echo", "train": {}}, answer_format=False)
    record = (await system.training_records())[0]
    assert record.target == "colour 0"
    assert record.completion_text() == "\ncolour 0"  # default template "{{input}}" has no answer cue


def test_target_text_falls_back():
    only_json = Example(id="a", input="q", reference_json={"answer": "x"})
    assert target_text(only_json, json_answers=False) == '{"answer":"x"}'
    both = Example(id="b", input="q", reference=" text ", reference_json={"answer": "x"})
    assert target_text(both, json_answers=False) == "text"


def test_data_hash_ignores_ids_but_not_content():
    a = [TrainingRecord("1", [{"role": "user", "content": "q"}], "t")]
    b = [TrainingRecord("2", [{"role": "user", "content": "q"}], "t")]
    c = [TrainingRecord("1", [{"role": "user", "content": "q"}], "u")]
    assert data_hash(a) == data_hash(b) != data_hash(c)


def test_train_config_rules():
    assert TrainConfig(steps=5).total_steps(100) == 5
    assert TrainConfig(batch_size=8).total_steps(17) == 3  # one epoch by default
    assert TrainConfig(epochs=2, batch_size=8).total_steps(17) == 5
    with pytest.raises(ValueError, match="steps or epochs"):
        TrainConfig(steps=3, epochs=1)


async def test_hosted_jsonl_is_openai_chat_format(tmp_path, echo_base):
    system = build(tmp_path, {"kind": "finetuned", "model": "scripted/echo", "prompt": TEMPLATE, "train": {}})
    records = await system.training_records()
    path = write_chat_jsonl(records, tmp_path / "out" / "train.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    for line, record in zip(lines, records):
        row = json.loads(line)
        assert list(row) == ["messages"]
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert row["messages"][:-1] == record.messages
        assert row["messages"][-1]["content"] == record.target
        assert all(isinstance(m["content"], str) for m in row["messages"])
    assert not list((tmp_path / "out").glob(".*part"))


def test_hosted_helpers():
    assert hosted_base("openai/gpt-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"
    assert hosted_base("local/gemma-3-270m") == "gpt-4o-mini-2024-07-18"
    text = manual_instructions(Path("data.jsonl"), "gpt-4o-mini-2024-07-18")
    assert "export OPENAI_API_KEY" in text and "file=@data.jsonl" in text and "/v1/fine_tuning/jobs" in text

    class Job:
        def __init__(self, status):
            self.status = status

    states = iter(["queued", "running", "running", "succeeded"])
    seen = []
    job = poll_job("ftjob-1", interval_s=0, retrieve=lambda _id: Job(next(states)), report=seen.append)
    assert job.status == "succeeded"
    assert seen == ["job ftjob-1: queued", "job ftjob-1: running", "job ftjob-1: succeeded"]


def test_gguf_lora_writer_names_and_shapes(tmp_path):
    rng = np.random.default_rng(0)
    state = {}
    for layer in range(2):
        for module, (n_in, n_out) in {"self_attn.q_proj": (640, 1024), "mlp.down_proj": (2048, 640)}.items():
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            state[f"{prefix}.lora_A.weight"] = rng.standard_normal((8, n_in), dtype=np.float32)
            state[f"{prefix}.lora_B.weight"] = rng.standard_normal((n_out, 8), dtype=np.float32)
    path = tmp_path / "lora.gguf"
    assert write_gguf_lora(state, path, architecture="gemma3", n_layers=2, alpha=16) == 8
    info = read_gguf_lora(path)
    assert (info["architecture"], info["type"], info["adapter_type"], info["alpha"]) == ("gemma3", "adapter", "lora", 16.0)
    assert info["tensors"]["blk.1.attn_q.weight.lora_a"] == [640, 8]  # GGUF lists dims innermost first
    assert info["tensors"]["blk.1.attn_q.weight.lora_b"] == [8, 1024]
    assert info["tensors"]["blk.0.ffn_down.weight.lora_a"] == [2048, 8]
    assert len(info["tensors"]) == 8


def test_gguf_lora_writer_rejects_unpaired_weights():
    with pytest.raises(ValueError, match="without their A/B pair"):
        pair_lora_weights({"model.layers.0.self_attn.q_proj.lora_A.weight": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="not a LoRA"):
        pair_lora_weights({"model.layers.0.self_attn.q_proj.weight": np.zeros((2, 2))})
