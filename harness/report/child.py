"""Ending a helper process of the report (the chart worker, the follower) without a word lost."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def stop_child(process: subprocess.Popen[str]) -> None:
    """Close its input (it stops at end of file), give it five seconds, then kill it; close its pipes."""
    if process.poll() is None:
        try:
            process.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError):
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def last_answer(process: subprocess.Popen[str], message: str | None, timeout: float) -> dict[str, Any] | None:
    """Send `message` (None: nothing more), wait for the process to end and return the JSON
    object on its last line of output; None when it failed, timed out or said nothing usable."""
    try:
        out, _ = process.communicate(message, timeout=timeout)
    except (OSError, subprocess.SubprocessError, ValueError):
        process.kill()
        stop_child(process)
        return None
    try:
        answer = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    except json.JSONDecodeError:
        answer = None
    return answer if process.returncode == 0 and isinstance(answer, dict) else None
