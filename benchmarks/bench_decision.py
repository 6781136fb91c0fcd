"""What the decision analysis costs a report: `harness.decision.analyse` on hand-built runs of
six approaches (base, few-shot, RAG, fine-tuned, hybrid, oracle) with two quality metrics and two
tags, at growing sizes. Prints seconds (min of `--repeat`) for reading the samples into facts and
for the analysis itself, and the peak memory of the facts.

    python benchmarks/bench_decision.py [--examples 200,2000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROLES = {"base": "prompt", "few_shot": "few_shot", "rag": "rag", "finetuned": "finetuned", "hybrid": "hybrid",
         "oracle": "oracle"}
ACCURACY = {"base": 0.2, "few_shot": 0.3, "rag": 0.6, "finetuned": 0.3, "hybrid": 0.7, "oracle": 0.8}


def write_run(path: Path, n: int) -> Path:
    from harness.run import RunCounts, RunHeader
    from harness.types import MetricInfo

    rng = random.Random(n)
    path.mkdir(parents=True, exist_ok=True)
    with (path / "samples.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(n):
            example = {"id": f"q{i}", "input": f"question {i}", "reference": "answer", "reference_doc_ids": [f"d{i}"],
                       "tags": ["fact"] if i % 2 else ["fact", "format"]}
            for system in ROLES:
                retrieves = system in ("rag", "hybrid", "oracle")
                scores = {"contains_answer": {"status": "ok", "value": float(rng.random() < ACCURACY[system])},
                          "json_schema": {"status": "ok", "value": float(rng.random() < 0.9)}}
                response = {"text": "an answer", "timings": {"total_s": 1.0, "retrieval_s": 0.05 if retrieves else None,
                                                              "generation_s": 0.95},
                            "usage": {"input_tokens": 100, "output_tokens": 10},
                            "retrieved": [{"doc_id": f"d{i}", "rank": 1}] if retrieves else None}
                handle.write(json.dumps({"system": system, "example": example, "response": response, "scores": scores}) + "\n")
    info = {"contains_answer": MetricInfo(group="correctness"), "json_schema": MetricInfo(group="format")}
    header = RunHeader(run_id=f"bench-{n}", suite={"name": "bench-decision"}, dataset={"n_test": n, "n_train": 2000},
                       systems={s: {"kind": k, "model": "local/m"} for s, k in ROLES.items()}, metric_info=info,
                       status="complete", counts=RunCounts(planned=6 * n, done=6 * n))
    (path / "run.json").write_text(header.model_dump_json(indent=2), encoding="utf-8")
    return path


def measure(run: Path, repeat: int) -> tuple[float, float, float]:
    from harness.decision.analysis import analyse_facts
    from harness.decision.facts import read_facts
    from harness.run import RunView

    reads, analyses = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        facts = read_facts(RunView.open(run))
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        analyse_facts(facts)
        analyses.append(time.perf_counter() - started)
    tracemalloc.start()
    facts = read_facts(RunView.open(run))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del facts
    return min(reads), min(analyses), peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", default="200,2000,10000", help="comma-separated example counts (x6 samples)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'examples':>9} {'samples':>8} {'read facts (s)':>15} {'analysis (s)':>13} {'facts peak (MiB)':>17}")
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(x) for x in args.examples.split(",")):
            run = write_run(Path(folder) / f"run-{n}", n)
            read, analysis, peak = measure(run, args.repeat)
            print(f"{n:>9,} {6 * n:>8,} {read:>15.2f} {analysis:>13.2f} {peak:>17.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
