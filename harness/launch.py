"""Starting and resuming runs: the functions the CLI and the Python API share."""

from __future__ import annotations

import asyncio
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Coroutine, TypeVar

from harness.errors import HarnessError
from harness.plan import RunOptions, RunPlan, plan_run
from harness.rundir import RunDir, RunHeader
from harness.runner import execute, new_header

T = TypeVar("T")


@dataclass
class RunOutcome:
    path: Path
    header: RunHeader


def start_run(suite_path: str | Path, options: RunOptions) -> RunOutcome:
    plan = plan_run(suite_path, options)
    run = RunDir.create(plan.out, new_header(plan, run_id=uuid.uuid4().hex))
    return RunOutcome(run.path, run_until_done(execute(plan, run), run))


def resume_run(path: Path, *, use_cache: bool = True, cache_dir: str | Path | None = None, progress: bool = True) -> RunOutcome:
    run = RunDir.open(path)
    header = run.read_header()
    suite_path = header.suite.get("path")
    if not suite_path:
        raise HarnessError("run.json does not record the suite file", where=str(path))
    options = RunOptions(
        out=run.path,
        use_cache=use_cache,
        cache_dir=Path(cache_dir) if cache_dir else None,
        progress=progress,
        **header.options,
    )
    plan = plan_run(suite_path, options)
    _check_same(plan, header, path)
    run.repair()
    done = {(row["system"], row["example"]["id"]) for row in run.iter_sample_dicts()}
    header.status = "running"
    header.ended_at = None
    run.write_header(header)
    return RunOutcome(run.path, run_until_done(execute(plan, run, done=done), run))


def _check_same(plan: RunPlan, header: RunHeader, path: Path) -> None:
    changed = []
    if plan.suite.content_hash != header.suite.get("content_hash"):
        changed.append(f"the suite file {plan.suite.path} changed since the run started")
    if plan.dataset.content_hash() != header.dataset.get("content_hash"):
        changed.append("the dataset changed since the run started")
    if set(plan.systems) != set(header.systems):
        changed.append("the systems differ from the run's")
    if changed:
        raise HarnessError("cannot resume: start a new run instead", where=str(path), problems=changed)


def run_until_done(coro: Coroutine[Any, Any, RunHeader], run: RunDir) -> RunHeader:
    """Run to the end; SIGINT/SIGTERM cancel the work and leave the run marked interrupted."""

    async def main() -> RunHeader:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        try:
            return await coro
        except asyncio.CancelledError:
            return run.read_header()

    return run_sync(main())


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, or a worker thread when an event loop is already running (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
