"""Training runs in a child process: results and errors come back, cancelling kills it."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from harness.finetune.isolated import run_isolated


def fail(message: str) -> None:
    raise ValueError(message)


def test_result_comes_back_from_another_process() -> None:
    assert asyncio.run(run_isolated(os.getpid)) != os.getpid()
    assert asyncio.run(run_isolated(divmod, 7, 2)) == (3, 1)


def test_errors_come_back_with_their_reason() -> None:
    with pytest.raises(RuntimeError, match="training failed in its process: ValueError: no data"):
        asyncio.run(run_isolated(fail, "no data"))


def test_a_dead_child_is_reported() -> None:
    with pytest.raises(RuntimeError, match="ended without a result \\(exit code 3\\)"):
        asyncio.run(run_isolated(os._exit, 3))


def test_cancelling_kills_the_child() -> None:
    async def go() -> float:
        task = asyncio.create_task(run_isolated(time.sleep, 60))
        await asyncio.sleep(1.0)
        task.cancel()
        started = time.perf_counter()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - started

    assert asyncio.run(go()) < 30
