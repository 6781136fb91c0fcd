"""A run's reports and its run-store rows, written by processes that follow samples.jsonl as the
run writes it.

`harness run` starts them with the run: one writes the reports (`--reports-only`), one adds
the run to the run store (`--store-only`); the same code does both in one process when started
without a flag. They read each sample as soon as its line is complete, on other cores than the
run's event loop.

- Reports: the aggregates (`SampleStats`) and the per-example HTML pages
  (`harness.report.pages`) grow as the run goes. When the run has written summary.csv and its
  final run.json, the runner says so on stdin; the follower reads the last lines, then writes
  the charts, report.md and report.html. It reads only the run directory, as `harness report`
  does, with the same code, so the files are the same. If the pages were laid out for another
  headline metric or other systems than the finished run has (the first samples decide the
  layout), they are rebuilt in one more pass.
- Store: the run's rows go in as samples arrive (`StoreFeed`), so registering a finished run
  costs its end almost nothing and no memory grows with it.

Protocol (each process): the runner writes {"run_dir": path} when the run directory exists
(the command starts the followers earlier, so their imports overlap the planning), then
{"charts": bool} when the run is written; the follower answers with one JSON line,
{"written": [paths], "stored": bool} or {"error": text}. stdin closed before that: the run is
abandoned and nothing is written. Whatever goes wrong here, the runner writes the reports and
registers the run itself.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

POLL_S = 0.05


_waiting: "ReportFollower | None" = None  # started ahead by the command, not yet given a run


def roles(reports: bool) -> tuple[str, ...]:
    """The followers a run needs: one writing its reports, one adding it to the run store. Two
    processes, not one: on a run served from the cache, a single follower doing both was behind
    the run by a third of its time (the store's inserts alone cost as much as the reports)."""
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
        _waiting = ReportFollower({role: start(role) for role in roles(reports)})


class ReportFollower:
    """The runner's handle on its follower processes (by role: "reports", "store"): `finish`
    once, or `stop`. A role whose process could not start is simply absent."""

    def __init__(self, processes: dict[str, subprocess.Popen[str] | None]):
        self.processes = {role: process for role, process in processes.items() if process is not None}
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
        follower = cls({role: ready.get(role) or _spawn(role) for role in needed})
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
            return []
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
    from harness.report.forked import ForkedChild

    try:
        return ForkedChild(lambda stdin, stdout: main([f"--{role}-only"], stdin, stdout))
    except OSError:
        return _spawn(role)


def stop_child(process: Any) -> None:
    from harness.report.child import stop_child as stop

    stop(process)


def _serve(stdin: IO[str], *, reports: bool = True, store: bool = True) -> dict[str, Any] | None:
    """Imports (and opens the run store) while waiting for the run directory, then follows it:
    writing the reports, adding the run to the store, or both."""
    warm = WarmUp(reports=reports, store=store)  # while the run is planned
    line = stdin.readline()
    if not line.strip():
        return None  # never given a run (it failed before starting)
    order = json.loads(line)
    return _follow(Path(order["run_dir"]), stdin, reports=reports and order.get("reports", True), store=warm if store else None)


def _follow(run_dir: Path, stdin: IO[str], *, reports: bool = True, store: "WarmUp | bool" = True) -> dict[str, Any] | None:
    """Follow `run_dir` until stdin says it is written. `store`: False to leave the run store to
    another follower; a WarmUp where it is being opened ahead; True to open it here."""
    from harness.report.data import RunData, SampleStats, facts_builder
    from harness.report.pages import PageWriter
    from harness.run import RunView

    header = RunView.open(run_dir).header
    stats = SampleStats(keep_values=False)  # the runner writes summary.csv
    follower = RunView.follow(run_dir, stats.index)  # one example index for the reader, the report and the decision
    stats.facts = facts_builder(header, stats.index)
    writer: PageWriter | None = None
    store = StoreFeed(header.run_id, store if isinstance(store, WarmUp) else None) if store else StoreFeed.off()

    def take() -> int:
        """Read what was appended; how many rows that was."""
        nonlocal writer
        taken = 0
        for row in follower.new_rows():
            taken += 1
            store.add(row)
            if not reports:
                continue
            stats.add_row(row)
            if writer is None:  # laid out from the first sample's metrics (all samples carry them)
                layout = [{"system": row["system"], "metric": name} for name in row.get("scores") or {}]
                writer = PageWriter(RunData(run_dir, header, layout), run_dir)
            writer.add(row)
        store.tick()
        return taken

    try:
        while True:
            # wait only when nothing was appended: while rows arrive, a pause is work left for the end
            waited = 0 if take() else POLL_S
            if select.select([stdin], [], [], waited)[0]:
                line = stdin.readline()
                if not line.strip():
                    store.abandon()
                    return None  # the runner is gone or gave up: write nothing
                order = json.loads(line)
                break
        take()  # the last lines, written before the runner said so
    except BaseException:
        store.abandon()
        raise
    if not reports:
        return {"written": [], "stored": store.finish(run_dir, follower.duplicates)}
    from harness.report import draw_charts, report_decision, write_html, write_markdown

    data = RunData.with_stats(run_dir, stats)  # the final run.json and summary.csv
    same = writer is not None and (writer.headline, writer.systems, writer.kinds) == (
        data.headline() or "", data.systems, data.kinds)
    if same:
        pages = writer.close()  # type: ignore[union-attr]
    else:
        rebuilt: list[PageWriter] = []

        def pages_in_same_pass(loaded: RunData) -> Any:
            rebuilt.append(PageWriter(loaded, run_dir))
            return rebuilt[0].add

        data = RunData.load(run_dir, visit=pages_in_same_pass, decision=True)
        if not rebuilt:
            from harness.report.pages import write_sample_pages

            pages = write_sample_pages(data, data.rows(), run_dir)
        else:
            pages = rebuilt[0].close()
    charts = order.get("charts", True)
    rendered, note = draw_charts(data) if charts else ([], None)
    decision = report_decision(data, charts=charts, href=pages.href)
    written = [write_markdown(data, decision), *write_html(data, pages, rendered, note, decision)]
    return {"written": [str(path) for path in written], "stored": store.finish(run_dir, follower.duplicates)}


class StoreFeed:
    """The run added to the run store as its samples arrive (harness.store.write.Registration).
    Any store problem only switches this off: the runner then registers the run the usual way,
    which reports the problem."""

    def __init__(self, run_id: str, warm: "WarmUp | None" = None):
        """`warm`: where the store is being opened ahead; without it, or if that failed, it is opened here."""
        self.registration: Any = None
        try:
            store = warm.store() if warm is not None else None
            if store is None:
                store = open_store()
            if store is not None:
                from harness.store.write import Registration

                self.store = store
                self.registration = Registration(self.store, run_id)
        except Exception:  # noqa: BLE001 - see the class docstring
            self.registration = None

    @classmethod
    def off(cls) -> "StoreFeed":
        """A feed that adds nothing (another follower adds the run to the store)."""
        feed = cls.__new__(cls)
        feed.registration = None
        return feed

    def add(self, row: dict[str, Any]) -> None:
        if self.registration is not None:
            try:
                self.registration.add(row)
            except Exception:  # noqa: BLE001 - see the class docstring
                self.abandon()

    def tick(self) -> None:
        if self.registration is not None:
            try:
                self.registration.tick()
            except Exception:  # noqa: BLE001 - see the class docstring
                self.abandon()

    def finish(self, run_dir: Path, duplicates: int) -> bool:
        """Add the run's own rows; whether the run is now in the store."""
        if self.registration is None:
            return False
        from harness.run import RunView

        try:
            self.registration.finish(RunView.open(run_dir), duplicates=duplicates)
        except Exception:  # noqa: BLE001 - see the class docstring
            self.abandon()
            return False
        self.store.close()
        return True

    def abandon(self) -> None:
        if self.registration is not None:
            registration, self.registration = self.registration, None
            try:
                registration.abandon()
            except Exception:  # noqa: BLE001, S110 - the runner registers the run the usual way
                pass
            self.store.close()


def open_store() -> Any:
    """The run store runs are added to; None when it is switched off. Raises what opening raised."""
    from harness.store.location import store_off

    if store_off():
        return None
    from harness.store.database import RunStore

    return RunStore.open()


class WarmUp:
    """What the follower needs, made ready on a thread while the runner still plans: the run
    store's modules, then the store itself (its first connection and schema check took 0.06-0.1 s,
    which left the follower behind the run), then the reports' modules. A store that fails to
    open here is opened again by StoreFeed, which then meets the error itself."""

    STORE_MODULES = ("harness.run", "harness.store.location", "harness.store.database", "harness.store.write", "sqlalchemy")
    REPORT_MODULES = ("harness.report", "harness.report.data", "harness.report.html", "harness.report.pages",
                      "harness.report.tables", "harness.report.charts", "harness.report.svg", "harness.decision.analysis",
                      "harness.decision.as_html", "harness.decision.as_markdown", "harness.decision.charts")

    def __init__(self, *, reports: bool, store: bool = True):
        self._opened = threading.Event()
        self._store: Any = None
        threading.Thread(target=self._run, args=(reports, store), daemon=True).start()

    def store(self) -> Any:
        """The open store, once the thread has got that far; None if it is off or failed to open."""
        self._opened.wait()
        return self._store

    def _run(self, reports: bool, store: bool) -> None:
        _import(self.STORE_MODULES if store else ("harness.run",))
        try:
            self._store = open_store() if store else None
        except Exception:  # noqa: BLE001 - see the class docstring
            self._store = None
        finally:
            self._opened.set()
        if reports:
            _import(self.REPORT_MODULES)


def _import(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the real import, later, reports any problem
            continue


def main(flags: list[str], stdin: IO[str], stdout: IO[str]) -> int:
    """The follower process: `--reports-only`, `--store-only`, or both roles without a flag."""
    try:
        answer = _serve(stdin, reports="--store-only" not in flags, store="--reports-only" not in flags)
        code = 0
    except Exception as error:  # noqa: BLE001 - reported to the runner, which writes the reports itself
        answer, code = {"error": f"{type(error).__name__}: {error}"}, 1
    if answer is not None:
        stdout.write(json.dumps(answer) + "\n")
    stdout.flush()
    return code


if __name__ == "__main__":
    os._exit(main(sys.argv[1:], sys.stdin, sys.stdout))  # a short-lived helper: no interpreter teardown
