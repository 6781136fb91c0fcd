"""Runs every (system, example) pair of a plan, scoring and appending each as it finishes.

A failed call becomes a sample with its error; the run goes on. Cancellation (Ctrl-C, SIGTERM)
stops new work, keeps every finished sample, and marks the run `interrupted`. The tally of
scores is kept as samples finish, so the summary is written without reading samples.jsonl back.
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
from harness.metrics.base import Metric, failed_response_scores, metric_infos
from harness.plan import RunPlan
from harness.progress import ProgressView
from harness.run import RunCounts, RunHeader, RunTally, RunWriter, Sample, now
from harness.run.record import DatasetInfo, GitInfo, RecordedOptions, SuiteInfo
from harness.timing import sample_clock
from harness.types import Example, Response, Score, Timings
from harness.gateway.endpoint import resolved_endpoint
from harness.secrets import redact
from harness.suite.model import JudgeConfig
from harness.versions import package_versions

PACKAGES = ["harness-eval", "litellm", "pydantic", "ragas", "llama-cpp-python", "sentence-transformers", "numpy"]


def new_header(plan: RunPlan, run_id: str) -> RunHeader:
    suite = plan.suite
    return RunHeader(
        run_id=run_id,
        suite=SuiteInfo(
            name=suite.name,
            description=suite.description,
            path=str(suite.path) if suite.path else None,
            content_hash=suite.content_hash,
        ),
        dataset=DatasetInfo(
            n_test=len(plan.dataset.test), n_train=len(plan.dataset.train), content_hash=plan.dataset.content_hash()
        ),
        leakage=plan.leakage,
        git=git_info(suite.base_dir),
        environment={"python": platform.python_version(), **package_versions(PACKAGES)},
        systems={name: recorded_system(suite.systems[name]) for name in plan.systems},
        metrics=[redact(m.model_dump(mode="json")) for m in suite.metrics],
        metric_info=metric_infos(plan.metrics),
        judge=JudgeConfig.model_validate(redact(suite.judge.model_dump(mode="json"))),
        judge_endpoint=resolved_endpoint(suite.judge.model, suite.judge.params) if suite.judge.model else None,
        settings=suite.settings,
        options=RecordedOptions(**plan.options.recorded()),
        counts=RunCounts(planned=len(plan.systems) * len(plan.dataset.test)),
        warnings=list(plan.warnings),
    )


def recorded_system(config: Any) -> dict[str, Any]:
    """A system's resolved config as run.json keeps it: secrets redacted, and for systems that
    call a model, where the calls go (`endpoint`), so compare and gate see a changed server."""
    recorded = config.model_dump(mode="json")
    if isinstance(model := recorded.get("model"), str) and model:
        recorded["endpoint"] = resolved_endpoint(model, recorded.get("params"))
    return redact(recorded)


def git_info(folder: Path) -> GitInfo:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    return GitInfo(commit=commit, dirty=bool(git("status", "--porcelain")) if commit else None)


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
    """The system's response, or one carrying the error; timings are the system's own time.

    `timings.queue_s` is what its calls waited for a concurrency slot (noted on the sample's clock
    by whoever waited), and is left out of `total_s`. A system that reports no `total_s` gets
    the time `respond` took, less that wait.
    """
    with sample_clock() as clock:
        started = time.perf_counter()
        try:
            response = await system.respond(example)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - recorded on the sample, the run goes on
            own = getattr(error, "latency_s", None)  # a failed call's own time (harness.gateway.retry)
            if not isinstance(own, float):
                own = max(time.perf_counter() - started - clock.queue_s, 0.0)
            return Response(
                error=describe(error), timings=Timings(total_s=own, queue_s=clock.queue_s),
                attempts=tries if isinstance(tries := getattr(error, "attempts", None), int) and tries >= 1 else None,
            )  # fmt: skip
        wall = time.perf_counter() - started
    if "total_s" not in response.timings.model_fields_set:
        response.timings.total_s = max(wall - clock.queue_s, 0.0)
    response.timings.queue_s = clock.queue_s
    response.metadata.setdefault("wall_s", wall)
    return response


async def setup_systems(plan: RunPlan) -> dict[str, Any]:
    """Slow one-off work (indexes, LoRA training), before the run directory exists: a set-up
    that fails leaves nothing behind. Returns what the systems built, by system."""
    built = {}
    for name, system in plan.systems.items():
        await system.setup()
        if (artifacts := system.artifacts()) is not None:
            built[name] = artifacts
    return built


def record_artifacts(header: RunHeader, built: dict[str, Any]) -> None:
    for name, artifacts in built.items():
        header.systems[name].update(artifacts.recorded)
        header.artifacts[name] = dict(artifacts.files)


async def execute(plan: RunPlan, run: RunWriter, header: RunHeader, tally: RunTally,
                  done: set[tuple[str, str]] | None = None) -> RunHeader:
    """Run the missing pairs into `run`; `tally` holds what is already there (resume). Returns
    the final header (complete or interrupted); raises CancelledError after writing it when
    the run was interrupted."""
    done = done or set()
    todo = [(name, ex) for ex in plan.dataset.test for name in plan.systems if (name, ex.id) not in done]
    totals = {name: len(plan.dataset.test) for name in plan.systems}
    progress = ProgressView(totals, dict(tally.samples), enabled=plan.options.progress)
    in_flight = asyncio.Semaphore(max(64, 4 * plan.suite.settings.concurrency))

    async def one(name: str, example: Example) -> None:
        async with in_flight:
            response = await respond_safely(plan.systems[name], example)
            scores = await score_sample(plan.metrics, example, response)
            run.append(Sample(system=name, example=example, response=response, scores=scores, finished_at=now()))
            tally.add(name, response.error is not None, scores)
            progress.advance(name, failed=response.error is not None)

    status = "failed"  # unless the work ends normally or is cancelled
    try:
        with progress:
            await asyncio.gather(*(one(name, ex) for name, ex in todo))
        status = "complete"
    except asyncio.CancelledError:
        status = "interrupted"
    finally:
        # systems that learn of problems while answering (a custom system's rankings) count them
        late = [w for system in plan.systems.values() for w in system.warnings]
        header.warnings = list(dict.fromkeys([*header.warnings, *late]))
        header = finish(run, header, tally, status=status, reports=plan.options.reports)
    if status == "interrupted":
        raise asyncio.CancelledError
    return header


def finish(run: RunWriter, header: RunHeader, tally: RunTally, *, status: str, reports: bool = True) -> RunHeader:
    """Write summary.csv from the tally and close the header with counts and status."""
    settings = header.settings
    run.write_summary(tally.summary(
        samples=settings.bootstrap_samples, confidence=settings.confidence, seed=settings.seed,
        system_order=header.systems,
    ))
    header.degraded = tally.degraded(header.judge.max_error_rate)
    header.counts.done = tally.done
    header.counts.errors = tally.n_errors
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
