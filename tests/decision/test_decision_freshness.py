"""Freshness end to end on a tiny scripted suite: the updated phase re-indexes RAG and the hybrid
on the new corpus, reuses the hybrid's LoRA (never retrains it), and the analysis measures the
loss on changed facts, with stale answers (the old fact repeated) counted."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_suite
from harness.decision import analyse, render_markdown
from harness.errors import HarnessError
from harness.engine.launch import start_run
from harness.engine.plan import RunOptions
from tests.finetune.test_finetune_lora import fake  # noqa: F401 - the fake trainer fixture

N_CHANGED, N_SAME = 10, 2


def make_suite(folder, **updates) -> object:
    (folder / "v1").mkdir()
    (folder / "v2").mkdir()
    test, changed = [], []
    for i in range(N_CHANGED + N_SAME):
        old, new = f"old{i}", (f"new{i}" if i < N_CHANGED else f"old{i}")
        (folder / "v1" / f"item{i}.md").write_text(f"# Item {i}\n\nThe code of item {i} is {old}.\n")
        (folder / "v2" / f"item{i}.md").write_text(f"# Item {i}\n\nThe code of item {i} is {new}.\n")
        row = {"id": f"t{i}", "input": f"What is the code of item {i}?", "reference_doc_ids": [f"item{i}.md"],
               "split": "test", "tags": ["fact"]}
        test.append({**row, "reference": old})
        changed.append({**row, "reference": new})
    train = [{"id": f"tr{i}", "input": f"What is the colour of box {i}?", "reference": f"colour{i}", "split": "train"}
             for i in range(8)]
    (folder / "changed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in changed))
    suite = {
        "name": "fresh",
        "dataset": {"inline": test + train},
        "corpus": {"path": "v1"},
        "scripted_models": {
            "reader": {"rules": [{"match": r"is (\w+)\.", "output": r"\1"}], "default": "no idea"},
            "memory": {"rules": [{"match": r"code of item (\d+)", "output": r"old\1"}], "default": "no idea"},
        },
        "retrieval": {"main": {"retriever": "bm25", "top_k": 1}},
        "systems": {
            "base": {"kind": "prompt", "model": "scripted/memory"},  # stands for a model that learned the old facts
            "rag": {"kind": "rag", "model": "scripted/reader", "retrieval": "main"},
            "hybrid": {"kind": "hybrid", "model": "scripted/echo", "retrieval": "main", "train": {"steps": 2}},
        },
        "metrics": [{"type": "exact_match", "mode": "contains"}, {"type": "retrieval", "k": [1]}, "latency"],
        "updates": {"corpus": {"path": "v2"}, "examples": {"path": "changed.jsonl"}, **updates},
    }
    return write_suite(folder, suite)


@pytest.fixture
def fresh_run(tmp_path, fake, fresh_index_memory):  # noqa: F811
    outcome = start_run(make_suite(tmp_path), RunOptions(out=tmp_path / "run", progress=False, reports=False))
    return outcome.path, fake


def test_updated_phase_reindexes_and_reuses_the_lora(fresh_run):
    path, trainer = fresh_run
    header = json.loads((path / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"]["done"] == 3 * 12 * 2
    assert header["updates"]["variants"] == {"base@updated": "base", "rag@updated": "rag", "hybrid@updated": "hybrid"}
    assert header["updates"]["changed"] == [f"t{i}" for i in range(N_CHANGED)]
    assert header["updates"]["unchanged"] == ["t10", "t11"]
    assert trainer.calls == 1  # the hybrid's LoRA was trained once; its updated twin reused it
    assert header["systems"]["hybrid@updated"]["lora_key"] == header["systems"]["hybrid"]["lora_key"]
    assert header["systems"]["rag@updated"]["corpus"]["path"] == "v2" and "corpus" not in header["systems"]["base@updated"]
    assert header["artifacts"]["rag@updated"]["index"] != header["artifacts"]["rag"]["index"]  # a new index
    rows = [json.loads(line) for line in (path / "samples.jsonl").read_text().splitlines()]
    after = {r["example"]["id"]: r for r in rows if r["system"] == "rag@updated"}
    assert after["t3"]["response"]["text"] == "new3" and after["t3"]["example"]["reference"] == "new3"


def test_freshness_measures_the_loss_and_the_stale_answers(fresh_run):
    path, _ = fresh_run
    decision = analyse(path)
    rows = {r.system: r for r in decision.freshness.rows}
    base, rag, hybrid = rows["base"], rows["rag"], rows["hybrid"]
    assert base.before == 1.0 and base.after == 0.0 and base.loss.verdict == "worse"
    assert base.stale == N_CHANGED and base.stale_ids[0] == "t0" and not base.reindexed
    assert "loses on the 10 changed facts: 1.000 → 0.000" in base.text and "10 answer(s) still give the old fact" in base.text
    assert rag.reindexed and rag.before == 1.0 and rag.after == 1.0 and rag.stale == 0
    assert rag.loss.verdict == "no_difference" and rag.unchanged_after == 1.0 and rag.n_unchanged == N_SAME
    assert hybrid.reindexed and "LoRA not retrained" in hybrid.text and hybrid.after == 1.0
    text = render_markdown(decision)
    assert "### Freshness" in text and "| base | no | 10 | 1.000 | 0.000 |" in text
    assert {a.system for a in decision.attribution} == {"base", "rag", "hybrid"}  # variants are not approaches
    assert "rag@updated" not in decision.roles.assigned.values()


def test_a_changed_tag_picks_the_changed_examples(tmp_path, fake, fresh_index_memory):  # noqa: F811
    suite = make_suite(tmp_path, changed_tag="moved", systems=["rag"])
    with pytest.raises(HarnessError, match="none of the update's examples changed"):
        start_run(suite, RunOptions(out=tmp_path / "run", progress=False, reports=False))
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_unusable_update_files_fail_before_the_run(tmp_path, fake, fresh_index_memory):  # noqa: F811
    suite = make_suite(tmp_path, corpus={"path": "nowhere"})
    with pytest.raises(HarnessError, match="updates.corpus"):
        start_run(suite, RunOptions(out=tmp_path / "run", progress=False, reports=False))


def test_a_cut_short_run_resumes_the_updated_phase(fresh_run):
    from harness.engine.launch import resume_run

    path, trainer = fresh_run
    lines = (path / "samples.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in lines if '"system": "rag@updated"' not in line and '"system":"rag@updated"' not in line]
    assert len(kept) == len(lines) - 12
    (path / "samples.jsonl").write_text("".join(kept))
    header = json.loads((path / "run.json").read_text())
    header["status"] = "interrupted"
    (path / "run.json").write_text(json.dumps(header))
    outcome = resume_run(path, progress=False)
    assert outcome.header.status == "complete" and outcome.header.counts.done == 72
    assert trainer.calls == 1  # the LoRA came from the cache
    rows = [json.loads(line) for line in (path / "samples.jsonl").read_text().splitlines()]
    assert sum(r["system"] == "rag@updated" for r in rows) == 12
    changed = path.parent / "changed.jsonl"
    changed.write_text(changed.read_text().replace("new3", "newer3"))
    with pytest.raises(HarnessError, match="the update's examples changed"):
        resume_run(path, progress=False)
