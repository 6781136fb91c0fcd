"""Threads for blocking user code (a sync `custom` function): `size` at a time, a timeout per
call, and each call's running time measured inside its own thread.

Python cannot stop a thread. A call that runs past its timeout is abandoned: the caller gets a
TimeoutError, the thread is left to finish (counted in `stuck`) and a fresh thread takes its
place, so the pool always has `size` threads able to work. The threads are daemons: one whose
function never returns does not keep the process alive at exit (the interpreter would wait for
a `ThreadPoolExecutor`'s threads, and `asyncio.run` for its default executor's).

The time a call waits for a free thread is queue time (noted on the sample's clock), and the
time it reports is from the moment its thread starts running it to the moment it returns, so a
busy event loop or a crowded pool does not inflate it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.runtime.timing import slot


@dataclass
class _Job:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    state: str = "queued"  # -> running -> finished; or abandoned (timed out, or cancelled)


class TimedThreadPool:
    def __init__(self, size: int, name: str = "harness-worker"):
        self.size = max(1, size)
        self.name = name
        self.timed_out = 0
        """Calls abandoned at their timeout, over the pool's life."""
        self.stuck = 0
        """Threads still running an abandoned call now."""
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def run(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *, timeout_s: float
    ) -> tuple[Any, float]:
        """(what `func(*args, **kwargs)` returned, seconds it ran in its thread); TimeoutError after `timeout_s`."""
        loop = asyncio.get_running_loop()
        async with slot(self._semaphore(loop)):
            self._fill()
            job = _Job(func, args, kwargs, loop, loop.create_future())
            self._jobs.put(job)
            try:
                done, _ = await asyncio.wait({job.future}, timeout=timeout_s)
            except asyncio.CancelledError:
                self._abandon(job, timed_out=False)
                raise
            if not done:
                self._abandon(job, timed_out=True)
                raise TimeoutError(
                    f"timed out: did not return within {timeout_s:g} s (its thread cannot be stopped and runs on)"
                )
            return job.future.result()

    def _semaphore(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """One per event loop (an asyncio.Semaphore belongs to the loop that first waits on it)."""
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.size))
        return self._slots[1]

    def _fill(self) -> None:
        with self._lock:
            missing = self.size + self.stuck - self._started
            self._started += max(missing, 0)
        for _ in range(max(missing, 0)):
            threading.Thread(target=self._work, name=self.name, daemon=True).start()

    def _abandon(self, job: _Job, *, timed_out: bool) -> None:
        with self._lock:
            running = job.state == "running"
            if job.state in ("queued", "running"):
                job.state = "abandoned"
            if timed_out:
                self.timed_out += 1
            if running:
                self.stuck += 1  # its thread retires when the call returns; _fill starts a new one
        job.future.cancel()
        if running:
            self._fill()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            with self._lock:
                if job.state != "queued":
                    continue  # abandoned before it started
                job.state = "running"
            started = time.perf_counter()
            try:
                outcome: tuple[str, Any] = ("value", job.func(*job.args, **job.kwargs))
            except BaseException as error:  # noqa: BLE001 - the user's code; SystemExit must not end the thread silently
                outcome = ("error", error)
            ran_s = time.perf_counter() - started
            with self._lock:
                abandoned = job.state == "abandoned"
                job.state = "finished"
                if abandoned:
                    self.stuck -= 1
                    self._started -= 1
            if abandoned:
                return  # replaced while it ran
            try:
                job.loop.call_soon_threadsafe(_settle, job.future, outcome, ran_s)
            except RuntimeError:
                pass  # the event loop is closed: nobody waits for this call any more


def _settle(future: asyncio.Future, outcome: tuple[str, Any], ran_s: float) -> None:
    if future.done():
        return
    kind, value = outcome
    if kind == "value":
        future.set_result((value, ran_s))
    elif isinstance(value, Exception):
        future.set_exception(value)
    else:  # SystemExit, KeyboardInterrupt raised by the function: an error of this sample only
        future.set_exception(RuntimeError(f"the function raised {type(value).__name__}: {value}"))
