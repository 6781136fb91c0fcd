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
from collections.abc import Iterator
from typing import Any

from harness.gateway.cache import flush_all as flush_caches
from harness.gateway.retry import describe
from harness.metrics.base import metric_infos
from harness.engine.plan import RunPlan
from harness.runtime.progress import ProgressView
from harness.run import RunCounts, RunHeader, RunTally, RunWriter, Sample, now
from harness.run.record import DatasetInfo, GitInfo, RecordedOptions, SuiteInfo
from harness.engine.executor import LocalExecutor, WorkItem
from harness.engine.scoring import score_sample
from harness.runtime.timing import sample_clock
from harness.types import Example, Response, Timings
from harness.gateway.endpoint import resolved_endpoint
from harness.secrets.redact import redact
from harness.suite.model import JudgeConfig
from harness.engine.updates import examples_for
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
        counts=RunCounts(planned=sum(len(examples_for(plan, name)) for name in plan.systems)),
        warnings=list(plan.warnings),
        decision=suite.decision.model_dump(mode="json") if suite.decision else None,
        cost=suite.cost.model_dump(mode="json") if suite.cost else None,
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


def _pairs(plan: RunPlan) -> Iterator[tuple[str, Example]]:
    """Every (system, example) of the run: the test set example by example, then the updated phase."""
    main = [name for name in plan.systems if name not in plan.tests]
    for example in plan.dataset.test:
        for name in main:
            yield name, example
    for name, examples in plan.tests.items():
        for example in examples:
            yield name, example


async def execute(plan: RunPlan, run: RunWriter, header: RunHeader, tally: RunTally,
                  done: set[tuple[str, str]] | None = None) -> RunHeader:
    """Run the missing pairs into `run` through the executor (harness.engine.executor); `tally`
    holds what is already there (resume). Returns the final header (complete or interrupted);
    raises CancelledError after writing it when the run was interrupted."""
    done = done or set()
    todo = (WorkItem(name, example) for name, example in _pairs(plan) if (name, example.id) not in done)
    totals = {name: len(examples_for(plan, name)) for name in plan.systems}
    progress = ProgressView(totals, dict(tally.samples), enabled=plan.options.progress)
    systems, metrics, scoring_limit = plan.systems, plan.metrics, plan.suite.settings.scoring_timeout_s
    executor = LocalExecutor(worker_count(plan))
    header.executor = executor.describe()

    async def answer(item: WorkItem) -> Sample:
        response = await respond_safely(systems[item.system], item.example)
        scores = await score_sample(metrics, item.example, response, scoring_limit)
        return Sample(system=item.system, example=item.example, response=response, scores=scores, finished_at=now())

    def record(sample: Sample) -> None:
        run.append(sample)
        failed = sample.response.error is not None
        tally.add(sample.system, failed, sample.scores)
        progress.advance(sample.system, failed=failed)

    status = "failed"  # unless the work ends normally or is cancelled
    # reports (and the run store's rows) are written by a process following samples.jsonl
    report = start_report_follower(run.path, plan.options.reports)
    warm_imports(FINISH_MODULES)
    try:
        with progress:
            await executor.run(todo, answer, record)
        status = "complete"
    except asyncio.CancelledError:
        status = "interrupted"
    finally:
        flush_caches()  # replies written in batches: all on disk before the run is closed
        # systems that learn of problems while answering (a custom system's rankings) count them
        late = [w for system in plan.systems.values() for w in system.warnings]
        header.warnings = list(dict.fromkeys([*header.warnings, *late]))
        header = finish(run, header, tally, status=status, reports=plan.options.reports, follower=report)
    if status == "interrupted":
        raise asyncio.CancelledError
    return header


def worker_count(plan: RunPlan) -> int:
    """Enough workers to fill the slots of every provider the systems' models and the judge are
    on, and as many again as the suite's concurrency ready behind them (cache hits, scoring and
    the systems that call no model never wait for a slot). No more: a worker waiting for a slot
    holds its prepared call, so workers beyond these only add memory."""
    concurrency = plan.suite.settings.concurrency
    models = [getattr(config, "model", None) for config in plan.suite.systems.values()] + [plan.suite.judge.model]
    providers = {model.split("/", 1)[0] for model in models if isinstance(model, str) and model}
    slots = sum(plan.gateway.slots(provider) for provider in providers) or concurrency
    return max(64, min(slots, 4 * concurrency) + concurrency)


# what the end of a run imports (the summary's bootstrap): loaded while calls wait
FINISH_MODULES = ("numpy", "harness.stats.bootstrap")


def warm_imports(modules: tuple[str, ...]) -> None:
    """Import `modules` in a background thread: the run's end then finds them loaded."""
    import importlib
    import threading

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001, S112 - the real import, later, reports any problem
                continue

    threading.Thread(target=load, name="harness-warm-imports", daemon=True).start()


def start_report_follower(path: Path, reports: bool) -> Any:
    """The processes that write the reports and add the run to the run store while the run goes
    on (harness.report.follower_handle); None when neither is wanted."""
    from harness.report.follower_handle import ReportFollower, wanted

    return ReportFollower.start(path, reports=reports) if wanted(reports) else None


def finish(run: RunWriter, header: RunHeader, tally: RunTally, *, status: str, reports: bool = True,
           follower: Any = None) -> RunHeader:
    """Write summary.csv from the tally and close the header with counts and status, then the
    reports: the `follower` has read the samples meanwhile; without it (or if it fails) they
    are written here from the run directory."""
    try:
        run.flush()  # the last samples' lines, before anyone is told the run is written
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
        following, follower = follower, None  # used up here
        done = following.finish(charts=reports) if following is not None else None
        if not reports or done is not None:
            return header  # (a run the follower could not store is stored by launch, as usual)
        from harness.report import write_reports  # lazy: only when the follower could not write them

        try:
            write_reports(run.path)
        except Exception as error:  # noqa: BLE001 - a report bug must never lose a finished run
            print(f"warning: reports not written ({error}); retry with: harness report {run.path}", file=sys.stderr)
        return header
    finally:
        if follower is not None:
            follower.stop()
