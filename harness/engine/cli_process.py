"""Garbage-collection shortcuts that only the `harness` command's own process takes.

A run keeps many long-lived objects (the dataset, the plan, modules): every full collection
walks them again, and the interpreter's teardown walks and frees them all once more, which
delays the end of a large run. The command therefore
- freezes the heap once the run is planned (`gc.freeze`: what exists then is never scanned
  again; reference counting still frees it), and
- leaves with `os._exit` once every file is flushed and closed (`exit_now`), skipping teardown.

Neither applies in a notebook, the pytest plug-in or any other caller of `harness.engine.launch`: only
`harness.cli.entry` turns them on, and a frozen heap there would leak the caller's objects.
"""

from __future__ import annotations

import gc
import os
import sys

_enabled = False


def enable() -> None:
    """Called by the command's entry point only."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


def freeze_heap() -> None:
    """After planning: what exists now lives until exit; later collections skip it."""
    if _enabled:
        gc.freeze()


def exit_now(code: int) -> None:
    """End the command with `code` without the interpreter's teardown, after flushing what it
    would have flushed: pending cache writes, log handlers, stdout and stderr."""
    try:
        if (cache := sys.modules.get("harness.gateway.cache")) is not None:
            cache.flush_all()
        if (logging := sys.modules.get("logging")) is not None:
            logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`harness ... | head`)
                pass
        os._exit(code)
