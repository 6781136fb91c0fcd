"""The executor seam: the runner hands work items to an executor and records what comes back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from harness.engine.executor import LocalExecutor, WorkItem
from harness.run import Sample, now
from harness.types import Example, Response
from tests.conftest import write_suite


def items(n: int) -> list[WorkItem]:
    return [WorkItem("s", Example(id=f"q{i}", input=f"question {i}")) for i in range(n)]


def test_the_local_executor_answers_every_item_once_with_its_workers_at_once() -> None:
    running, peak, recorded = 0, 0, []

    async def answer(item: WorkItem) -> Sample:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return Sample(system=item.system, example=item.example, response=Response(text=item.example.id), finished_at=now())

    asyncio.run(LocalExecutor(4).run(iter(items(20)), answer, recorded.append))
    assert sorted(s.example.id for s in recorded) == sorted(f"q{i}" for i in range(20))
    assert peak == 4


def test_a_cancelled_executor_stops_taking_items_and_keeps_what_was_recorded() -> None:
    recorded: list[Sample] = []

    async def answer(item: WorkItem) -> Sample:
        await asyncio.sleep(0.05 if item.example.id != "q0" else 0)
        return Sample(system=item.system, example=item.example, response=Response(text="a"), finished_at=now())

    async def go() -> None:
        task = asyncio.ensure_future(LocalExecutor(2).run(iter(items(50)), answer, recorded.append))
        await asyncio.sleep(0.12)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert 1 <= len(recorded) < 50
    assert len({s.example.id for s in recorded}) == len(recorded)


def test_a_failing_answer_ends_the_run_and_no_worker_is_left_running() -> None:
    async def answer(item: WorkItem) -> Sample:
        if item.example.id == "q3":
            raise RuntimeError("broken")
        await asyncio.sleep(0.01)
        return Sample(system=item.system, example=item.example, response=Response(text="a"), finished_at=now())

    async def go() -> None:
        with pytest.raises(RuntimeError, match="broken"):
            await LocalExecutor(3).run(iter(items(30)), answer, lambda sample: None)
        await asyncio.sleep(0.05)
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(go())


def test_run_json_names_the_executor(tmp_path: Path, isolated_cache: Path) -> None:
    from harness.cli import main

    rows = [{"id": f"q{i}", "input": f"{i}+0?", "reference": str(i)} for i in range(3)]
    suite = write_suite(tmp_path, {"name": "ex", "dataset": {"inline": rows},
                                   "systems": {"echo": {"kind": "prompt", "model": "scripted/echo"}}, "metrics": ["exact_match"]})
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", "--no-report"]) == 0
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["executor"]["kind"] == "local" and header["executor"]["workers"] >= 1


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LocalExecutor(0)
