"""Starting and resuming runs: the functions the CLI, the notebook API and the pytest plug-in share."""

from __future__ import annotations

import asyncio
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Coroutine, TypeVar

from harness.engine.cli_process import freeze_heap
from harness.errors import HarnessError
from harness.engine.plan import RunOptions, RunPlan, plan_run
from harness.run import RunHeader, RunTally, RunView, RunWriter
from harness.run.record import RecordedOptions
from harness.engine.runner import execute, new_header, record_artifacts, setup_systems
from harness.store import register_finished

T = TypeVar("T")


@dataclass
class RunOutcome:
    path: Path
    header: RunHeader


def start_run(suite_path: str | Path, options: RunOptions) -> RunOutcome:
    plan = plan_run(suite_path, options)
    update = plan.update

    async def main(started: list[RunHeader]) -> RunHeader:
        built = await setup_systems(plan)
        header = new_header(plan, run_id=uuid.uuid4().hex)
        header.updates = update.record() if update else None
        record_artifacts(header, built)
        freeze_heap()  # the command only: the plan and dataset are never collected again
        with RunWriter.create(plan.out, header) as run:
            started.append(header)
            return await execute(plan, run, header, RunTally())

    return _registered(RunOutcome(Path(plan.out), run_sync(_until_done(main))))


def resume_run(path: Path, *, use_cache: bool = True, cache_dir: str | Path | None = None, progress: bool = True) -> RunOutcome:
    view = RunView.open(path)
    header = view.header
    if not header.suite.path:
        raise HarnessError("run.json does not record the suite file", where=str(path))
    recorded: RecordedOptions = header.options
    options = RunOptions(
        out=Path(path),
        use_cache=use_cache,
        cache_dir=Path(cache_dir) if cache_dir else None,
        progress=progress,
        limit=recorded.limit,
        systems=recorded.systems,
        model=recorded.model,
        judge_model=recorded.judge_model,
        exclude_leaked=recorded.exclude_leaked,
    )
    plan = plan_run(header.suite.path, options)
    update = plan.update
    _check_same(plan, header, path)
    if update is not None and (header.updates or {}).get("content_hash") != update.content_hash():
        raise HarnessError("cannot resume: the update's examples changed since the run started; start a new run instead",
                           where=str(path))

    async def main(started: list[RunHeader]) -> RunHeader:
        with RunWriter.reopen(path) as run:  # locked from here: no other writer can append
            view = RunView.open(path)
            tally, done = RunTally(), set()
            for row in view.rows():
                tally.add_row(row)
                done.add((row["system"], str(row["example"]["id"])))
            await setup_systems(plan)
            freeze_heap()
            header = view.header
            header.status = "running"
            header.ended_at = None
            run.write_header(header)
            started.append(header)
            return await execute(plan, run, header, tally, done)

    return _registered(RunOutcome(Path(path), run_sync(_until_done(main))))


def _registered(outcome: RunOutcome) -> RunOutcome:
    """Add the finished run to the run store (a store problem is a warning, never a failure)."""
    register_finished(outcome.path)
    return outcome


def _check_same(plan: RunPlan, header: RunHeader, path: Path) -> None:
    changed = []
    if plan.suite.content_hash != header.suite.content_hash:
        changed.append(f"the suite file {plan.suite.path} changed since the run started")
    if plan.dataset.content_hash() != header.dataset.content_hash:
        changed.append("the dataset changed since the run started")
    if set(plan.systems) != set(header.systems):
        changed.append("the systems differ from the run's")
    if changed:
        raise HarnessError("cannot resume: start a new run instead", where=str(path), problems=changed)


async def _until_done(main: Callable[[list[RunHeader]], Coroutine[Any, Any, RunHeader]]) -> RunHeader:
    """Run to the end; SIGINT/SIGTERM cancel the work. Once the run directory exists (main
    appends its header to `started`) the run is left marked interrupted and its header returned;
    before that (set-up: indexes, training) nothing was written and it ends as KeyboardInterrupt."""
    started: list[RunHeader] = []
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert task is not None
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, task.cancel)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        return await main(started)
    except asyncio.CancelledError:
        if started:
            return started[0]
        raise KeyboardInterrupt from None
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, or a worker thread when an event loop is already running (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
