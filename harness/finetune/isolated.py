"""Training in a child process: its memory (a dequantised base model, optimizer state,
activations) goes back to the system when it ends, so a run's peak is the larger of training and
evaluation rather than their sum, and a crash in the trainer cannot take the run down with it."""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from typing import Any, Callable


def _child(connection: Any, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        connection.send((True, func(*args, **kwargs)))
    except BaseException as error:  # noqa: BLE001 - everything goes back to the parent
        connection.send((False, f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    finally:
        connection.close()


async def run_isolated(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`func(*args, **kwargs)` in a fresh (spawned) process; cancelling the await kills it."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, func, args, kwargs), daemon=True)
    process.start()
    send.close()
    try:
        ok, value = await asyncio.to_thread(_receive, receive, process)
    except asyncio.CancelledError:
        process.terminate()
        raise
    finally:
        process.join(timeout=30)
        receive.close()
    if not ok:
        raise RuntimeError(f"training failed in its process: {value}")
    return value


def _receive(connection: Any, process: Any) -> tuple[bool, Any]:
    try:
        return connection.recv()
    except EOFError:
        process.join(timeout=5)
        return False, f"the training process ended without a result (exit code {process.exitcode})"
