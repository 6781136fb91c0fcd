"""Hand-built run directories for the decision analysis tests: every number is chosen here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from harness.run import RunCounts, RunHeader
from harness.types import MetricInfo

INFO = {
    "contains_answer": MetricInfo(group="correctness"),
    "exact_match": MetricInfo(group="correctness"),
    "json_schema": MetricInfo(group="format"),
    "recall@3": MetricInfo(group="retrieval"),
    "faithfulness": MetricInfo(group="faithfulness"),
    "declined_unanswerable": MetricInfo(higher_is_better=True, group="abstention"),
    "declined_answerable": MetricInfo(higher_is_better=False, group="abstention"),
    "latency_s": MetricInfo(higher_is_better=False, unit="s", group="cost"),
    "cost_usd": MetricInfo(higher_is_better=False, unit="usd", group="cost"),
}
KINDS = {"base": "prompt", "few_shot": "few_shot", "rag": "rag", "finetuned": "finetuned", "hybrid": "hybrid",
         "oracle": "oracle"}


def score(name: str, value: Any) -> dict[str, Any]:
    if value in ("undefined", "error"):
        return {"name": name, "value": None, "status": value, "reason": f"{value} here", "detail": {}}
    return {"name": name, "value": float(value), "status": "ok", "reason": None, "detail": {}}


def sample(system: str, example_id: str, scores: dict[str, Any], *, text: str = "an answer", tags: Iterable[str] = (),
           reference: str = "ref", doc_ids: Iterable[str] = ("a.md",), retrieved: list[str] | None = None,
           error: str | None = None, timings: tuple[float, float | None, float | None] = (1.0, None, 1.0),
           tokens: tuple[int, int] | None = (100, 10), cost: float | None = 0.0, cached: bool = False) -> dict[str, Any]:
    total, retrieval, generation = timings
    chunks = None if retrieved is None else [
        {"chunk_id": f"{d}#0", "doc_id": d, "text": "text", "score": 1.0, "rank": n + 1} for n, d in enumerate(retrieved)
    ]
    return {
        "system": system,
        "example": {"id": example_id, "input": f"question {example_id}", "reference": reference, "reference_json": None,
                    "reference_doc_ids": list(doc_ids), "reference_relevance": {}, "reference_contexts": [],
                    "tags": list(tags), "split": "test", "metadata": {}},
        "response": {"text": "" if error else text, "parsed": None, "retrieved": chunks,
                     "usage": None if tokens is None else {"input_tokens": tokens[0], "output_tokens": tokens[1]},
                     "cost_usd": cost, "timings": {"total_s": total, "retrieval_s": retrieval, "generation_s": generation},
                     "model": "scripted/x", "cached": cached, "error": error, "metadata": {}},
        "scores": {name: score(name, "error" if error else value) for name, value in scores.items()},
        "finished_at": None,
    }


def write_run(path: Path, systems: dict[str, dict[str, Any]], samples: list[dict[str, Any]], **header: Any) -> Path:
    """`systems`: name -> recorded config (needs `kind`); `header`: extra RunHeader fields."""
    path.mkdir(parents=True, exist_ok=True)
    metrics = {name for s in samples for name in s["scores"]}
    run = RunHeader(
        run_id="handmade-decision", suite={"name": "decision-test"},
        dataset={"n_test": len({s["example"]["id"] for s in samples}), "n_train": header.pop("n_train", 2000)},
        systems=systems, metric_info={m: INFO[m] for m in metrics if m in INFO}, status="complete",
        counts=RunCounts(planned=len(samples), done=len(samples)), **header,
    )
    (path / "run.json").write_text(run.model_dump_json(indent=2), encoding="utf-8")
    (path / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    return path


def binary_run(path: Path, correct: dict[str, list[int]], fmt: dict[str, list[int]] | None = None,
               systems: dict[str, dict[str, Any]] | None = None, tags: dict[int, list[str]] | None = None,
               **header: Any) -> Path:
    """Systems (by role name unless `systems` says otherwise) with 0/1 contains_answer (and
    json_schema) per example; rag and hybrid retrieve the reference document."""
    systems = systems or {name: {"kind": KINDS.get(name, "custom"), "model": "scripted/x"} for name in correct}
    samples = []
    for name, values in correct.items():
        retrieves = systems[name]["kind"] in ("rag", "hybrid", "oracle")
        for i, value in enumerate(values):
            scores = {"contains_answer": value}
            if fmt is not None:
                scores["json_schema"] = fmt[name][i]
            samples.append(sample(name, f"q{i:03d}", scores, tags=(tags or {}).get(i, ["fact"]),
                                  retrieved=["a.md"] if retrieves else None,
                                  timings=(1.2, 0.1, 1.1) if retrieves else (1.0, None, 1.0)))
    return write_run(path, systems, samples, **header)
