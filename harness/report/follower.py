"""A run's reports, written by a second process that follows samples.jsonl as the run writes it.

`harness run` starts it with the run. While models are called, it reads each sample as soon as
its line is complete: the aggregates (`SampleStats`) and the per-example HTML pages
(`harness.report.pages`) grow as the run goes, on another core than the run's event loop. When the run has written summary.csv and its final run.json, the runner says so on stdin;
the follower reads the last lines, then writes the charts, report.md and report.html. It reads
only the run directory, as `harness report` does, with the same code, so the files are the same.
If the pages were laid out for another headline metric or other systems than the finished run
has (the first samples decide the layout), they are rebuilt in one more pass.

It also adds the run to the run store as samples arrive (`StoreFeed`), so registering a finished
run costs its end almost nothing and no memory grows with it.

Protocol: the runner writes {"run_dir": path} when the run directory exists (the command starts
the follower earlier, so its imports overlap the planning), then {"charts": bool} when the run
is written; the follower answers with one JSON line, {"written": [paths], "stored": bool} or
{"error": text}.
stdin closed before that: the run is abandoned and nothing is written. Whatever goes wrong
here, the runner writes the reports itself.
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


def wanted(reports: bool) -> bool:
    """Whether a run needs a follower: for its reports, or to add it to the run store."""
    if reports:
        return True
    from harness.store.location import store_off

    return not store_off()


def start_early(*, reports: bool) -> None:
    """Start the follower now, before the run is planned, so its imports overlap the planning
    (the `harness run` command only: elsewhere an unused follower would linger)."""
    global _waiting
    if _waiting is None and wanted(reports):
        _waiting = ReportFollower._spawn(reports=reports)


class ReportFollower:
    """The runner's handle on the follower process: `finish` once, or `stop`."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.run_dir: Path | None = None

    @classmethod
    def start(cls, run_dir: Path, *, reports: bool = True) -> "ReportFollower | None":
        """A follower for `run_dir` (the one started early, if any); None if none can start.
        Without `reports` it only adds the run to the run store."""
        global _waiting
        follower, _waiting = _waiting, None
        if follower is None or follower.process.poll() is not None:
            follower = cls._spawn(reports=reports)
        if follower is None:
            return None
        try:
            order = {"run_dir": str(Path(run_dir).resolve()), "reports": reports}
            follower.process.stdin.write(json.dumps(order) + "\n")  # type: ignore[union-attr]
            follower.process.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError):
            follower.stop()
            return None
        follower.run_dir = Path(run_dir)
        return follower

    @classmethod
    def _spawn(cls, *, reports: bool) -> "ReportFollower | None":
        paths = [p or os.getcwd() for p in sys.path]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "harness.report.follower", *([] if reports else ["--store-only"])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                encoding="utf-8", env=env,
            )
        except OSError:
            return None
        return cls(process)

    def finish(self, *, charts: bool = True, timeout: float = 900) -> list[Path] | None:
        """Tell the follower the run is written; the report files it wrote, or None if it failed."""
        from harness.report.child import last_answer

        answer = last_answer(self.process, json.dumps({"charts": charts}) + "\n", timeout=timeout)
        if answer is None or "written" not in answer:
            return None
        if answer.get("stored") and self.run_dir is not None:
            from harness.store import mark_registered

            mark_registered(self.run_dir)  # added as it was written: nothing left to register
        return [Path(p) for p in answer["written"]]

    def stop(self) -> None:
        """Abandon the reports (a run that failed before its end, or `finish` that failed)."""
        from harness.report.child import stop_child

        stop_child(self.process)


def _serve(stdin: IO[str], *, store_only: bool = False) -> dict[str, Any] | None:
    """Imports while waiting for the run directory, then follows it."""
    threading.Thread(target=_warm_imports, args=(not store_only,), daemon=True).start()  # while the run is planned
    line = stdin.readline()
    if not line.strip():
        return None  # never given a run (it failed before starting)
    order = json.loads(line)
    return _follow(Path(order["run_dir"]), stdin, reports=order.get("reports", True))


def _follow(run_dir: Path, stdin: IO[str], *, reports: bool = True) -> dict[str, Any] | None:
    from harness.report import draw_charts, report_decision, write_html, write_markdown
    from harness.report.data import RunData, SampleStats, facts_builder
    from harness.report.pages import PageWriter
    from harness.run import RunView

    header = RunView.open(run_dir).header
    follower, stats = RunView.follow(run_dir), SampleStats(keep_values=False)  # the runner writes summary.csv
    stats.facts = facts_builder(header, stats.index)
    writer: PageWriter | None = None
    store = StoreFeed(header.run_id)

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

    def __init__(self, run_id: str):
        self.registration: Any = None
        try:
            from harness.store.location import store_off

            if not store_off():
                from harness.store.database import RunStore
                from harness.store.write import Registration

                self.store = RunStore.open()
                self.registration = Registration(self.store, run_id)
        except Exception:  # noqa: BLE001 - see the class docstring
            self.registration = None

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


def _warm_imports(reports: bool) -> None:
    """What the follower will need, imported while the runner still plans."""
    import importlib

    names = ["harness.run", "harness.store.location", "harness.store.database", "harness.store.write", "sqlalchemy"]
    if reports:
        names += ["harness.report", "harness.report.data", "harness.report.html", "harness.report.pages",
                  "harness.report.tables", "harness.report.charts", "harness.report.svg", "harness.decision.analysis",
                  "harness.decision.as_html", "harness.decision.as_markdown", "harness.decision.charts"]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the real import, later, reports any problem
            continue


if __name__ == "__main__":
    try:
        answer = _serve(sys.stdin, store_only="--store-only" in sys.argv[1:])
        code = 0
    except Exception as error:  # noqa: BLE001 - reported to the runner, which writes the reports itself
        answer, code = {"error": f"{type(error).__name__}: {error}"}, 1
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(code)  # a short-lived helper: no interpreter teardown
