"""Realistic synthetic run directories for the viewer's tests, its benchmark and demos.

Each has what a real run has: tags, references with relevant document ids, retrieved contexts
(for retrieval systems), correct and wrong answers, undefined and error scores with reasons,
timings, tokens and cost. Written through `RunWriter` and `Sample`, so the store and the viewer
read them with the same code as a real run. `payload` puts markup into model outputs, inputs,
contexts and reasons, to check that the viewer shows it as text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from harness.run import RunCounts, RunHeader, RunTally, RunWriter, Sample
from harness.types import Example, MetricInfo, Response, RetrievedChunk, Score, Timings, Usage

XSS = '<script>document.title="pwned"</script><img src=x onerror="document.body.id=\'pwned\'">'
RETRIEVAL_KINDS = {"rag", "hybrid", "oracle"}
METRIC_INFO = {
    "contains_answer": MetricInfo(group="correctness"),
    "token_f1": MetricInfo(group="correctness"),
    "recall@3": MetricInfo(group="retrieval"),
    "faithfulness": MetricInfo(group="faithfulness"),
    "latency_s": MetricInfo(higher_is_better=False, unit="s", group="cost"),
    "tokens_out": MetricInfo(higher_is_better=False, unit="tokens", group="cost"),
}
WORDS = ("policy refund shipping warranty invoice account password laptop battery screen order delivery "
         "support contract renewal discount region office holiday manager team product release").split()


@dataclass
class Spec:
    """What to write: systems (name -> kind) and each one's chance of a correct answer."""

    run_id: str
    n_examples: int = 20
    systems: dict[str, str] = field(default_factory=lambda: {"prompt": "prompt", "rag": "rag", "oracle": "oracle"})
    accuracy: dict[str, float] = field(default_factory=dict)  # default 0.3 / 0.6 / 0.8 by kind
    suite: str = "synthetic"
    suite_hash: str = "hash0"
    started_at: str = "2026-01-01T00:00:00+00:00"
    commit: str | None = "0123456789abcdef0123456789abcdef01234567"
    status: str = "complete"
    seed: int = 0
    payload: bool = False
    context_chars: int = 400
    error_every: int = 0  # every nth sample of the first system fails (0: never)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _accuracy(spec: Spec, system: str, kind: str) -> float:
    return spec.accuracy.get(system, {"prompt": 0.3, "few_shot": 0.4, "rag": 0.6, "hybrid": 0.7, "oracle": 0.8}.get(kind, 0.5))


def write_run(path: str | Path, spec: Spec) -> Path:
    """Write the run directory (run.json, samples.jsonl, summary.csv) and return its path."""
    rng = random.Random(spec.seed)
    header = RunHeader(
        run_id=spec.run_id, suite={"name": spec.suite, "content_hash": spec.suite_hash},
        git={"commit": spec.commit, "dirty": False},
        systems={name: {"kind": kind, "model": f"scripted/{name}"} for name, kind in spec.systems.items()},
        metric_info=METRIC_INFO, started_at=spec.started_at, ended_at=spec.started_at, status=spec.status,
    )
    tally = RunTally()
    with RunWriter.create(Path(path), header) as run:
        for i in range(spec.n_examples):
            example = _example(random.Random(f"{spec.suite}/{i}"), spec, i)  # the same examples in every run of a suite
            for position, (system, kind) in enumerate(spec.systems.items()):
                failed = bool(spec.error_every) and position == 0 and i % spec.error_every == spec.error_every - 1
                sample = _sample(rng, spec, example, system, kind, failed)
                tally.add(system, failed, sample.scores)
                run.append(sample)
        header.counts = RunCounts(planned=tally.done, done=tally.done, errors=tally.n_errors)
        run.write_header(header)
        run.write_summary(tally.summary(samples=200, confidence=0.95, seed=0, system_order=spec.systems))
    return Path(path)


def _example(rng: random.Random, spec: Spec, i: int) -> Example:
    answer = f"{rng.choice(WORDS)}-{i}"
    question = f"What is the {_sentence(rng, 3)} code for case {i}?"
    if spec.payload and i == 0:
        question += " " + XSS
    tags = ["easy" if i % 3 else "hard", rng.choice(["billing", "devices", "people"])]
    return Example(id=f"q{i:05d}", input=question, reference=answer, reference_doc_ids=[f"doc{i % 40}.md"], tags=tags)


def _sample(rng: random.Random, spec: Spec, example: Example, system: str, kind: str, failed: bool) -> Sample:
    answer = example.reference or ""
    correct = rng.random() < _accuracy(spec, system, kind)
    text = f"The code is {answer}." if correct else f"I believe it is {rng.choice(WORDS)}."
    if spec.payload and example.id == "q00000":
        text += " " + XSS
    retrieved = None
    if kind in RETRIEVAL_KINDS:
        relevant = example.reference_doc_ids[0]
        docs = [relevant if (correct or rng.random() < 0.3) and rank == 0 else f"doc{rng.randrange(40, 80)}.md"
                for rank in range(3)]
        retrieved = [
            RetrievedChunk(chunk_id=f"{doc}#{rank}", doc_id=doc, rank=rank + 1, score=round(1 / (rank + 1.5), 3),
                           text=(f"{answer} is the code. " if doc == relevant else "")
                           + _sentence(rng, spec.context_chars // 7)
                           + (" " + XSS if spec.payload and example.id == "q00000" else ""))
            for rank, doc in enumerate(docs)
        ]
    latency = round(rng.uniform(0.05, 0.9) + (0.2 if retrieved else 0.0), 4)
    response = Response(
        text="" if failed else text, retrieved=None if failed else retrieved, error="HTTP 503: <b>overloaded</b>" if failed else None,
        usage=Usage(input_tokens=40 + (120 if retrieved else 0), output_tokens=len(text.split())),
        cost_usd=0.0, model=f"scripted/{system}",
        timings=Timings(total_s=latency, retrieval_s=0.2 if retrieved else None, generation_s=latency - (0.2 if retrieved else 0)),
    )
    return Sample(system=system, example=example, response=response, scores=_scores(rng, spec, example, response, correct, failed))


def _scores(rng: random.Random, spec: Spec, example: Example, response: Response, correct: bool, failed: bool) -> dict[str, Score]:
    if failed:
        return {name: Score.failed(name, "system error: HTTP 503") for name in METRIC_INFO}
    f1 = 1.0 if correct else round(rng.uniform(0.0, 0.4), 3)
    scores = {"contains_answer": Score.ok("contains_answer", 1.0 if correct else 0.0), "token_f1": Score.ok("token_f1", f1)}
    if response.retrieved:
        hit = any(c.doc_id in example.reference_doc_ids for c in response.retrieved)
        scores["recall@3"] = Score.ok("recall@3", 1.0 if hit else 0.0)
        if rng.random() < 0.05:
            reason = "judge timed out <after 30 s>" + (" " + XSS if spec.payload else "")
            scores["faithfulness"] = Score.failed("faithfulness", reason)
        else:
            scores["faithfulness"] = Score.ok("faithfulness", round(rng.uniform(0.5, 1.0) if correct else rng.uniform(0, 0.6), 3))
    else:
        scores["recall@3"] = Score.undefined("recall@3", "system retrieves nothing")
        scores["faithfulness"] = Score.undefined("faithfulness", "no contexts to judge")
    scores["latency_s"] = Score.ok("latency_s", response.timings.total_s)
    scores["tokens_out"] = Score.ok("tokens_out", float(response.usage.output_tokens if response.usage else 0))
    return scores
