"""Slow one-off work (an import, a model load) run in a worker thread, never on the event loop.

The event loop times every sample: while it is blocked, no `await asyncio.sleep` wakes and no
reply is read, so each sample in flight records the stall as its own latency, and Ctrl-C and
SIGTERM wait too. Loading ragas, litellm, numpy or an embedding model is seconds of work the
first time: the first caller starts it in a daemon thread (one that never ends does not keep
the process alive at exit), later callers wait for the same load without blocking the loop,
and once it is done the answer is returned at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loads: dict[str, concurrent.futures.Future] = {}


def _start(func: Callable[..., Any], args: tuple[Any, ...]) -> concurrent.futures.Future:
    future: concurrent.futures.Future = concurrent.futures.Future()

    def work() -> None:
        try:
            future.set_result(func(*args))
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(error)

    threading.Thread(target=work, name="harness-off-loop", daemon=True).start()
    return future


async def once_off_loop(key: str, func: Callable[..., T], *args: Any) -> T:
    """`func(*args)`, run once per process under `key` in a worker thread; a load that failed is
    tried again by the next caller (who then sees the error for themselves)."""
    with _lock:
        future = _loads.get(key)
        if future is None or (future.done() and future.exception() is not None):
            future = _loads[key] = _start(func, args)
    if future.done():
        return future.result()
    return await asyncio.wrap_future(future)


def _ready(name: str) -> ModuleType | None:
    """The module when it is imported completely (one being imported by another thread is in
    sys.modules already, half done: importing it here would wait for that thread)."""
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module


async def import_off_loop(name: str) -> ModuleType:
    """`importlib.import_module(name)`, imported in a worker thread the first time."""
    module = _ready(name)
    if module is not None:
        return module
    return await once_off_loop(f"import {name}", importlib.import_module, name)
