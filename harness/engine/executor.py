"""Where a run's work is done: the seam between the runner and the machines that answer.

The runner turns its plan into work items, one (system, example) pair each, and hands them to an
executor with two functions: `answer` makes a finished sample of one item (the system's response
and its scores), `record` takes each finished sample (the run directory, the tally, the
progress bars). The executor decides where and how many answers run at once; the runner, the
run directory and its one writer stay as they are whichever executor runs the work.

`LocalExecutor` is a fixed pool of asyncio workers in this process, taking items one at a time
from one shared iterator, so memory does not grow with the number of pairs. An executor for a
cluster implements the same two methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from harness.run import Sample
from harness.types import Example


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One (system, example) pair of a run."""

    system: str
    example: Example


Answer = Callable[[WorkItem], Awaitable[Sample]]
Record = Callable[[Sample], None]


class Executor(Protocol):
    def describe(self) -> dict[str, Any]:
        """What run.json records of it (`kind` and its settings)."""
        ...

    async def run(self, items: Iterator[WorkItem], answer: Answer, record: Record) -> None:
        """Answer every item and record each sample as it finishes; cancelled, it stops taking
        items and ends its work in flight (the samples already recorded are kept)."""
        ...


class LocalExecutor:
    """A pool of `workers` asyncio tasks in this process."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self.workers = workers

    def describe(self) -> dict[str, Any]:
        return {"kind": "local", "workers": self.workers}

    async def run(self, items: Iterator[WorkItem], answer: Answer, record: Record) -> None:
        async def worker() -> None:
            for item in items:  # one shared iterator: each item is taken once
                sample = await answer(item)
                record(sample)
                cached = sample.response.cached
                del sample  # not held while this worker waits for its next answer
                # Instant answers (in-process functions, replays) never wait, so without this one
                # worker would take every item in one step of the loop: Ctrl-C, SIGTERM and the
                # dropping of cancelled timers are loop callbacks, and would wait for the whole
                # run. A cache hit has waited for its lookup (harness.gateway.lookups).
                if not cached:
                    await asyncio.sleep(0)

        tasks = [asyncio.ensure_future(worker()) for _ in range(self.workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:  # a worker that raised must not leave the others running
                task.cancel()

