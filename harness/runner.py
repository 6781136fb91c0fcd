"""Runs every (system, example) pair of a plan, scoring and appending each as it finishes.

A failed call becomes a sample with its error; the run goes on. Cancellation (Ctrl-C, SIGTERM)
stops new work, keeps every finished sample, and marks the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.gateway.retry import describe
from harness.versions import package_versions
from harness.metrics.base import Metric, failed_response_scores
from harness.plan import RunPlan
from harness.progress import ProgressView
from harness.rundir import RunCounts, RunDir, RunHeader, now
from harness.summary import summarise, to_csv
from harness.types import Example, Response, Sample, Score

PACKAGES = ["harness-eval", "litellm", "pydantic", "ragas", "llama-cpp-python", "sentence-transformers", "numpy"]


def new_header(plan: RunPlan, run_id: str) -> RunHeader:
    suite = plan.suite
    return RunHeader(
        run_id=run_id,
        suite={
            "name": suite.name,
            "description": suite.description,
            "path": str(suite.path) if suite.path else None,
            "content_hash": suite.content_hash,
        },
        dataset={
            "n_test": len(plan.dataset.test),
            "n_train": len(plan.dataset.train),
            "content_hash": plan.dataset.content_hash(),
        },
        leakage=plan.leakage,
        git=git_info(suite.base_dir),
        packages=package_versions(PACKAGES),
        systems={name: suite.systems[name].model_dump(mode="json") for name in plan.systems},
        metrics=[m.model_dump(mode="json") for m in suite.metrics],
        judge=suite.judge.model_dump(mode="json"),
        settings=suite.settings.model_dump(mode="json") | {"python": platform.python_version()},
        options=plan.options.recorded(),
        counts=RunCounts(planned=len(plan.systems) * len(plan.dataset.test)),
        warnings=list(plan.warnings),
    )


def git_info(folder: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    return {"commit": commit, "dirty": bool(git("status", "--porcelain")) if commit else None}


async def score_sample(metrics: list[Metric], example: Example, response: Response) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for metric in metrics:
        if response.error is not None:
            results = failed_response_scores(metric, response)
        else:
            try:
                results = await metric.score(example, response)
            except Exception as error:  # noqa: BLE001 - a broken metric must not kill the run
                results = [Score.failed(n, f"metric failed: {describe(error)}") for n in metric.names]
        for score in results:
            scores[score.name] = score
    return scores


async def respond_safely(system: Any, example: Example) -> Response:
    started = time.perf_counter()
    try:
        response = await system.respond(example)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - recorded on the sample, the run goes on
        return Response(error=describe(error), timings={"total_s": time.perf_counter() - started})
    response.metadata.setdefault("wall_s", time.perf_counter() - started)
    return response


async def execute(plan: RunPlan, run: RunDir, *, done: set[tuple[str, str]] | None = None) -> RunHeader:
    """Run the missing pairs into `run`; returns the final header (complete or interrupted)."""
    done = done or set()
    todo = [(name, ex) for ex in plan.dataset.test for name in plan.systems if (name, ex.id) not in done]
    totals = {name: len(plan.dataset.test) for name in plan.systems}
    already = {name: sum(1 for s, _ in done if s == name) for name in plan.systems}
    progress = ProgressView(totals, already, enabled=plan.options.progress)
    in_flight = asyncio.Semaphore(max(64, 4 * plan.suite.settings.concurrency))

    async def one(name: str, example: Example) -> None:
        async with in_flight:
            response = await respond_safely(plan.systems[name], example)
            scores = await score_sample(plan.metrics, example, response)
            run.append(Sample(system=name, example=example, response=response, scores=scores, finished_at=now()))
            progress.advance(name, failed=response.error is not None)

    status = "complete"
    try:
        await _setup_systems(plan, run)
        with progress:
            await asyncio.gather(*(one(name, ex) for name, ex in todo))
    except asyncio.CancelledError:
        status = "interrupted"
    finally:
        run.close()
        header = finish(run, run.read_header(), status=status, reports=plan.options.reports)
    if status == "interrupted":
        raise asyncio.CancelledError
    return header


async def _setup_systems(plan: RunPlan, run: RunDir) -> None:
    """Systems with slow set-up (an index, a training run) do it once, before the first sample.
    What they built (a LoRA and its lineage) is recorded in run.json."""
    header = run.read_header()
    for name, system in plan.systems.items():
        setup = getattr(system, "setup", None)
        if setup is not None:
            await setup()
        lora = getattr(system, "lora", None)
        if lora is not None:
            # the key (a hash of data, config and base model) is part of what ran; paths are local
            header.systems[name]["lora_key"] = lora.key
            header.artifacts[name] = {"lora": str(lora.path), "lineage": str(lora.lineage_path)}
    run.write_header(header)


def degraded_metrics(rows: list[dict[str, Any]], max_error_rate: float) -> list[str]:
    """Metrics whose own failures (a judge that broke, not a system that did) exceed the limit."""
    scored: dict[str, int] = {}
    failed: dict[str, int] = {}
    for row in rows:
        if row.get("response", {}).get("error"):
            continue
        for name, score in row.get("scores", {}).items():
            scored[name] = scored.get(name, 0) + 1
            if score.get("status") == "error":
                failed[name] = failed.get(name, 0) + 1
    notes = []
    for name, n_failed in failed.items():
        rate = n_failed / scored[name]
        if rate > max_error_rate:
            notes.append(
                f"DEGRADED: {name} failed on {n_failed} of {scored[name]} samples ({rate:.0%}), "
                f"above judge.max_error_rate {max_error_rate:.0%}; see the reasons in samples.jsonl"
            )
    return notes


def finish(run: RunDir, header: RunHeader, *, status: str, reports: bool = True) -> RunHeader:
    """Write summary.csv from samples.jsonl and close the header with counts and status."""
    rows = list(run.iter_sample_dicts())
    settings = header.settings
    summary = summarise(
        rows,
        samples=int(settings.get("bootstrap_samples", 1000)),
        confidence=float(settings.get("confidence", 0.95)),
        seed=int(settings.get("seed", 0)),
        system_order=list(header.systems),
    )
    run.write_text(RunDir.SUMMARY, to_csv(summary))
    header.degraded = degraded_metrics(rows, float(header.judge.get("max_error_rate", 0.1)))
    header.counts.done = len(rows)
    header.counts.errors = sum(1 for r in rows if r.get("response", {}).get("error"))
    header.status = status  # type: ignore[assignment]
    header.ended_at = now()
    run.write_header(header)
    if not reports:
        return header
    from harness.report import write_reports  # lazy: matplotlib loads only here

    try:
        write_reports(run.path)
    except Exception as error:  # noqa: BLE001 - a report bug must never lose a finished run
        print(f"warning: reports not written ({error}); retry with: harness report {run.path}", file=sys.stderr)
    return header

