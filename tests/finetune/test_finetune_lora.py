"""`kind: finetuned` / `kind: hybrid` on a scripted model with a fake trainer: training on demand,
the LoRA cache (second run trains nothing), lineage, atomic builds, bad input, the CLI."""

from __future__ import annotations

import asyncio

import json
from pathlib import Path

import pytest
from tests.conftest import write_suite

from harness.cli import main
from harness.errors import ConfigError, HarnessError
from harness.finetune import config as ft_config
from harness.finetune import trainer as ft_trainer
from harness.finetune.config import BaseModelSpec
from harness.finetune.store import LoraStore
from harness.finetune.trainer import TrainResult
from harness.gateway import Gateway
from harness.finetune import isolated
from tests.finetune.test_finetune_data import SCHEMA, TEMPLATE, build, rows


class FakeTrainer:
    """Writes a stand-in LoRA file and counts calls; `fail` raises half-way through."""

    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail

    def __call__(self, records, config, base, lora_path, *, on_step=None, on_status=None):
        self.calls += 1
        lora_path.write_bytes(b"GGUF partial")
        if self.fail:
            raise KeyboardInterrupt("killed mid-training")
        total = config.total_steps(len(records))
        for step in range(1, total + 1):
            on_step and on_step(step, total, 1.0 / step)
        return TrainResult([round(1.0 / s, 6) for s in range(1, total + 1)], len(records), 0, 1234, "cpu", 2,
                           {"load": 0.1, "train": 0.2, "convert": 0.01, "total": 0.31})


@pytest.fixture
def fake(monkeypatch):
    bases = ft_config.supported_bases

    def with_echo():
        return {**bases(), "scripted/echo": BaseModelSpec("scripted/echo", "gemma3", "ab" * 32, lambda: Path("/none"))}

    monkeypatch.setattr(ft_config, "supported_bases", with_echo)
    trainer = FakeTrainer()
    monkeypatch.setattr(ft_trainer, "train_lora", trainer)  # what ensure_lora uses when no trainer is given

    async def in_this_process(func, *args, **kwargs):  # the fake lives here, not in a child process
        return await asyncio.to_thread(func, *args, **kwargs)

    monkeypatch.setattr(isolated, "run_isolated", in_this_process)
    return trainer


SYSTEM = {"kind": "finetuned", "model": "scripted/echo", "prompt": TEMPLATE, "train": {"steps": 3, "learning_rate": 0.002}}


async def test_setup_trains_once_then_hits_the_cache(tmp_path, fake):
    first = build(tmp_path, SYSTEM)
    await first.setup()
    assert fake.calls == 1 and first.lora.trained
    assert first.lora.path.is_file()
    second = build(tmp_path, SYSTEM)  # a new run: new system object, same cache
    await second.setup()
    assert fake.calls == 1 and not second.lora.trained
    assert second.lora.key == first.lora.key
    changed = build(tmp_path, {**SYSTEM, "train": {"steps": 3, "learning_rate": 0.001}})
    await changed.setup()
    assert fake.calls == 2 and changed.lora.key != first.lora.key
    await changed.setup(force=True)
    assert fake.calls == 3


async def test_served_with_the_lora(tmp_path, fake):
    system = build(tmp_path, SYSTEM)
    seen = []
    complete = Gateway.complete

    async def spy(self, request, **kwargs):
        seen.append(request)
        return await complete(self, request, **kwargs)

    system.context.gateway.complete = spy.__get__(system.context.gateway)
    response = await system.respond(system.context.test[0])  # no setup(): trains on first use
    assert fake.calls == 1
    assert seen[0].params.extra["lora_path"] == str(system.lora.path)
    assert seen[0].model == "scripted/echo"
    assert response.metadata["lora"]["key"] == system.lora.key
    assert response.error is None


async def test_lineage_record(tmp_path, fake):
    system = build(tmp_path, SYSTEM)
    await system.setup()
    lineage = json.loads(system.lora.lineage_path.read_text())
    assert lineage["key"] == system.lora.key
    assert lineage["base_model"] == {"name": "scripted/echo", "architecture": "gemma3", "file_sha256": "ab" * 32}
    assert len(lineage["training_data"]["sha256"]) == 64
    assert lineage["training_data"]["n_examples"] == 10
    assert lineage["training_data"]["example_ids"][:2] == ["train0", "train1"]
    hyper = lineage["hyperparameters"]
    assert (hyper["learning_rate"], hyper["lora_r"], hyper["lora_alpha"], hyper["total_steps"]) == (0.002, 8, 16.0, 3)
    assert lineage["loss_per_step"] == [1.0, 0.5, 0.333333]
    assert lineage["wall_time_s"]["total"] == 0.31
    assert {"torch", "transformers", "peft", "gguf"} <= set(lineage["libraries"])
    assert lineage["prompt_template"]["template"] == TEMPLATE["template"]
    assert lineage["lora"]["file"] == "lora.gguf" and len(lineage["lora"]["sha256"]) == 64
    assert lineage["built_for"] == {"suite": "ft", "system": "ft"}


async def test_a_killed_build_leaves_no_lora(tmp_path, monkeypatch, fake):
    broken = FakeTrainer(fail=True)
    monkeypatch.setattr(ft_trainer, "train_lora", broken)
    system = build(tmp_path, SYSTEM)
    with pytest.raises(KeyboardInterrupt):
        await system.setup()
    store = LoraStore(tmp_path / "cache")
    key = system.lora.key if system.lora else None
    assert key is None
    assert [p.name for p in store.root.iterdir() if not p.name.startswith(".")] == []
    monkeypatch.setattr(ft_trainer, "train_lora", fake)
    await system.setup()
    assert fake.calls == 1 and store.find(system.lora.key) is not None
    assert not list(store.root.glob(".tmp-*"))


def test_too_few_train_examples(tmp_path, fake):
    with pytest.raises(ConfigError, match="at least 8 train examples") as error:
        build(tmp_path, SYSTEM, data=rows(n_train=3))
    assert "3 of 3 train examples" in str(error.value)
    with pytest.raises(ConfigError, match="train split is empty"):
        build(tmp_path, SYSTEM, data=rows(n_train=0))


def test_unknown_base_model_names_the_supported_ones(tmp_path, fake):
    with pytest.raises(ConfigError, match="cannot fine-tune 'openai/gpt-4o-mini'.*supports: local/gemma-3-270m"):
        build(tmp_path, {**SYSTEM, "model": "openai/gpt-4o-mini"})


def test_missing_extra_says_what_to_install(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(ft_config, "find_spec", lambda name: None if name == "peft" else object())
    with pytest.raises(ConfigError, match=r"needs peft .*pip install -e '\.\[finetune\]'"):
        build(tmp_path, SYSTEM)


def test_config_needs_a_model_or_a_train_block(tmp_path):
    with pytest.raises(HarnessError, match="give `model`"):
        build(tmp_path, {"kind": "finetuned"})


def test_existing_fine_tuned_model_needs_no_training(tmp_path):
    system = build(tmp_path, {"kind": "finetuned", "model": "scripted/echo"}, data=rows(n_train=0))
    assert system.config.train is None and system.base is None


def test_train_base_model_wins_over_the_default_model(tmp_path, fake):
    system = build(tmp_path, {"kind": "finetuned", "model": "openai/gpt-4o", "train": {"base_model": "scripted/echo"}})
    assert system.config.model == "scripted/echo"


def suite_file(tmp_path: Path, systems: dict) -> Path:
    return write_suite(tmp_path, {
        "name": "ftsuite",
        "dataset": {"inline": rows()},
        "answer_format": {"schema": SCHEMA},
        "systems": systems,
        "metrics": ["exact_match"],
    })


def test_harness_run_trains_on_demand_and_reuses_the_lora(tmp_path, fake, capsys):
    path = suite_file(tmp_path, {"ft": SYSTEM, "plain": {"kind": "prompt", "model": "scripted/echo"}})
    for n in (1, 2):
        assert main(["run", str(path), "--out", str(tmp_path / f"run{n}"), "--no-progress"]) == 0
        assert fake.calls == 1  # the second run finds the LoRA
        samples = [json.loads(line) for line in (tmp_path / f"run{n}" / "samples.jsonl").read_text().splitlines()]
        tuned = [s for s in samples if s["system"] == "ft"]
        assert len(tuned) == 2 and all(s["response"]["metadata"]["lora"]["key"] for s in tuned)


def test_cli_trains_then_reports_the_cache(tmp_path, fake, capsys):
    path = suite_file(tmp_path, {"ft": SYSTEM, "plain": {"kind": "prompt", "model": "scripted/echo"}})
    assert main(["finetune", str(path), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("lora.gguf") and Path(out.strip()).is_file()
    assert "trained 3 steps on 10 examples" in err
    assert main(["finetune", str(path), "--system", "ft", "--no-progress"]) == 0
    assert "cached LoRA" in capsys.readouterr().err and fake.calls == 1
    assert main(["finetune", str(path), "--system", "ft", "--force", "--no-progress"]) == 0
    assert fake.calls == 2


def test_cli_hosted_export_and_submit_without_a_key(tmp_path, fake, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = suite_file(tmp_path, {"ft": SYSTEM})
    out_file = tmp_path / "hosted.jsonl"
    assert main(["finetune", str(path), "--hosted", "--out", str(out_file)]) == 0
    assert len(out_file.read_text().splitlines()) == 10 and fake.calls == 0
    capsys.readouterr()
    assert main(["finetune", str(path), "--hosted", "--submit", "--out", str(out_file)]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY is not set" in err and f"file=@{out_file}" in err


def test_cli_usage_errors(tmp_path, fake, capsys):
    path = suite_file(tmp_path, {"ft": SYSTEM, "plain": {"kind": "prompt", "model": "scripted/echo"}})
    assert main(["finetune", str(path), "--system", "plain"]) == 2
    assert "is a prompt system" in capsys.readouterr().err
    assert main(["finetune", str(path), "--submit"]) == 2
    assert main(["finetune", str(path), "--system", "nope"]) == 2


async def test_hybrid_trains_on_prompts_with_retrieved_context(tmp_path, fake):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"doc{i}.md").write_text(f"# Item {i}\n\nTrain item {i} is colour {i}.\n")
    raw_system = {"kind": "hybrid", "model": "scripted/echo", "retrieval": "small", "train": {"steps": 2},
                  "prompt": {"template": "Context:\n{{context}}\n\nQuestion: {{input}}\nAnswer:"}}
    system = build_hybrid(tmp_path, raw_system)
    records = await system.training_records()
    assert "[1] source: " in records[1].messages[0]["content"]
    assert records[1].messages == (await system.prompt_for(system.examples[1])).messages
    response = await system.respond(system.context.test[0])
    assert fake.calls == 1 and response.retrieved and response.timings.retrieval_s is not None
    assert response.metadata["prompt"][0]["content"].startswith("Context:\n[1] source: ")


def build_hybrid(tmp_path: Path, system: dict):
    from harness.data.datasets import load_dataset
    from harness.suite.loader import parse_suite
    from harness.systems import SystemContext, load_system_kinds

    raw = {"name": "hy", "dataset": {"inline": rows()}, "corpus": {"path": "corpus"},
           "retrieval": {"small": {"retriever": "bm25", "top_k": 2}}, "systems": {"hy": system}}
    suite = parse_suite(raw, base_dir=tmp_path)
    data = load_dataset(suite)
    context = SystemContext(name="hy", suite=suite, gateway=Gateway(cache=None), train=data.train, test=data.test,
                            cache_dir=tmp_path / "cache", extras={"progress": False})
    return load_system_kinds().get("hybrid").factory(suite.systems["hy"], context)
