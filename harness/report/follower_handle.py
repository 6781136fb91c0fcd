"""The `harness run` side of the followers (harness.report.follower): starting them, telling
them the run is written, collecting their answers, or stopping them.

One follower writes the run's reports, one adds the run to the run store (`roles`). The command
starts them before it plans the run (`start_early`), forked from itself where fork is safe
(harness.report.forked); elsewhere (a notebook, the pytest plug-in) they are spawned as
`python -m harness.report.follower` when the run starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_waiting: "ReportFollower | None" = None  # started ahead by the command, not yet given a run


def roles(reports: bool) -> tuple[str, ...]:
    """The followers a run needs: one writing its reports, one adding it to the run store. Two
    processes, not one: a single follower doing both would finish well after a fast run's summary
    (the store's inserts alone cost as much as the reports)."""
    from harness.store.location import store_off

    return (*(["reports"] if reports else []), *([] if store_off() else ["store"]))


def wanted(reports: bool) -> bool:
    """Whether a run needs a follower: for its reports, or to add it to the run store."""
    return bool(roles(reports))


def start_early(*, reports: bool) -> None:
    """Start the followers now, before the run is planned, so their imports overlap the planning
    (the `harness run` command only: elsewhere an unused follower would linger)."""
    global _waiting
    if _waiting is None and wanted(reports):
        from harness.report.forked import can_fork

        start = _fork if can_fork() else _spawn
        _waiting = ReportFollower({role: start(role) for role in roles(reports)}, reports=reports)


class ReportFollower:
    """The runner's handle on its follower processes (by role: "reports", "store"): `finish`
    once, or `stop`. A role whose process could not start is simply absent."""

    def __init__(self, processes: dict[str, subprocess.Popen[str] | None], *, reports: bool = True):
        self.processes = {role: process for role, process in processes.items() if process is not None}
        self.reports = reports  # asked for: without their follower, `finish` says they are not written
        self.run_dir: Path | None = None

    @classmethod
    def start(cls, run_dir: Path, *, reports: bool = True) -> "ReportFollower | None":
        """Followers for `run_dir` (those started early, if any); None if none can start.
        Without `reports` only the run store's follower runs."""
        global _waiting
        early, _waiting = _waiting, None
        ready = dict(early.processes) if early is not None else {}
        needed = roles(reports)
        for role, process in list(ready.items()):
            if role not in needed or process.poll() is not None:
                stop_child(ready.pop(role))
        follower = cls({role: ready.get(role) or _spawn(role) for role in needed}, reports=reports)
        order = json.dumps({"run_dir": str(Path(run_dir).resolve()), "reports": reports}) + "\n"
        for role, process in list(follower.processes.items()):
            try:
                process.stdin.write(order)  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except (OSError, ValueError):
                stop_child(follower.processes.pop(role))
        if not follower.processes:
            return None
        follower.run_dir = Path(run_dir)
        return follower

    def finish(self, *, charts: bool = True, timeout: float = 900) -> list[Path] | None:
        """Tell the followers the run is written; the report files written, or None if the reports'
        follower failed (or there is none while reports were asked for)."""
        from harness.report.child import last_answer

        message = json.dumps({"charts": charts}) + "\n"
        for process in self.processes.values():  # all told first: they finish side by side
            try:
                process.stdin.write(message)  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except (OSError, ValueError):
                pass
        answers = {role: last_answer(process, None, timeout=timeout) for role, process in self.processes.items()}
        stored = answers.get("store")
        if stored is not None and stored.get("stored") and self.run_dir is not None:
            from harness.store import mark_registered

            mark_registered(self.run_dir)  # added as it was written: nothing left to register
        if "reports" not in self.processes:
            return None if self.reports else []
        written = answers["reports"]
        if written is None or "written" not in written:
            return None
        return [Path(p) for p in written["written"]]

    def stop(self) -> None:
        """Abandon the reports and the store's rows (a run that failed before its end, or `finish` that failed)."""
        for process in self.processes.values():
            stop_child(process)


def _spawn(role: str) -> subprocess.Popen[str] | None:
    paths = [p or os.getcwd() for p in sys.path]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "harness.report.follower", f"--{role}-only"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8", env=env,
        )
    except OSError:
        return None


def _fork(role: str) -> Any:
    """A follower forked from this process (the command's, before it starts a thread): it has
    the modules imported so far (harness.report.forked)."""
    from harness.report.follower import main
    from harness.report.forked import ForkedChild

    try:
        return ForkedChild(lambda stdin, stdout: main([f"--{role}-only"], stdin, stdout))
    except OSError:
        return _spawn(role)


def stop_child(process: Any) -> None:
    from harness.report.child import stop_child as stop

    stop(process)
