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
registers the run itself. The runner's side of this is harness.report.follower_handle.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from pathlib import Path
from typing import IO, Any

POLL_S = 0.05

def _serve(stdin: IO[str], *, reports: bool = True, store: bool = True) -> dict[str, Any] | None:
    """Imports while waiting for the run directory, then follows it: writing the reports, adding
    the run to the store, or both."""
    warm_up(reports=reports, store=store)  # on a thread, while the run is planned
    line = stdin.readline()
    if not line.strip():
        return None  # never given a run (it failed before starting)
    order = json.loads(line)
    return _follow(Path(order["run_dir"]), stdin, reports=reports and order.get("reports", True), store=store)


def _follow(run_dir: Path, stdin: IO[str], *, reports: bool = True, store: bool = True) -> dict[str, Any] | None:
    """Follow `run_dir` until stdin says it is written. `store`: False to leave the run store to
    another follower."""
    from harness.report.data import RunData, SampleStats, facts_builder
    from harness.report.pages import PageWriter
    from harness.run import RunView

    header = RunView.open(run_dir).header
    stats = SampleStats(keep_values=False)  # the runner writes summary.csv
    follower = RunView.follow(run_dir, stats.index)  # one example index for the reader, the report and the decision
    stats.facts = facts_builder(header, stats.index)
    writer: PageWriter | None = None
    store = StoreFeed(header.run_id, on=store)

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

    def __init__(self, run_id: str, *, on: bool = True):
        """`on=False`: a feed that adds nothing (another follower adds the run to the store)."""
        self.registration: Any = None
        if not on:
            return
        try:
            store = open_store()
            if store is not None:
                from harness.store.write import Registration

                self.store = store
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


def open_store() -> Any:
    """The run store runs are added to; None when it is switched off. Raises what opening raised."""
    from harness.store.location import store_off

    if store_off():
        return None
    from harness.store.database import RunStore

    return RunStore.open()


STORE_MODULES = ("harness.run", "harness.store.location", "harness.store.database", "harness.store.write", "sqlalchemy")
REPORT_MODULES = ("harness.report", "harness.report.data", "harness.report.html", "harness.report.pages",
                  "harness.report.tables", "harness.report.charts", "harness.report.chart_files", "harness.charts.svg", "harness.decision.analysis",
                  "harness.decision.as_html", "harness.decision.as_markdown", "harness.decision.charts")


def warm_up(*, reports: bool, store: bool) -> None:
    """Import what the follower will need, on a thread, while the runner still plans. Nothing
    is opened or written before the run exists: a suite refused in planning leaves no trace."""

    def load() -> None:
        _import(STORE_MODULES if store else ("harness.run",))
        if reports:
            _import(REPORT_MODULES)

    threading.Thread(target=load, name="harness-follower-imports", daemon=True).start()


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
