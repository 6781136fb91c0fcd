"""Reports written while a run goes on (by the process following samples.jsonl), and their paged
samples, are the ones `harness report` writes from the files; every sample is reachable from
report.html; a follower or chart worker that fails changes nothing."""

from __future__ import annotations

import gc
import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import qa_rows, scripted_suite, write_suite
from harness.report import pages as pages_module
from harness.report import write_reports
from harness.report.pages import PAGES_DIR

ANCHOR = re.compile(r'<details id="ex-([^"]+)">')


def report_files(run: Path) -> dict[str, bytes]:
    names = ["report.md", "report.html", *sorted(f"{PAGES_DIR}/{p.name}" for p in (run / PAGES_DIR).glob("*.html"))]
    names += sorted(f"charts/{p.name}" for p in (run / "charts").glob("*.svg"))
    return {name: (run / name).read_bytes() for name in names}


def tagged_suite(tmp_path: Path, n: int) -> Path:
    rows = qa_rows(n)
    for i, row in enumerate(rows):
        row["tags"] = ["odd"] if i % 2 else ["even", "numbers"]
    rows[3]["tags"] = []
    spec = scripted_suite(rows)
    spec["scripted_models"]["adder"].update(error_rate=0.3, seed=7)
    spec["settings"] = {"retry": {"max_attempts": 1}, "max_error_rate": 1.0}
    return write_suite(tmp_path, spec)


def run_suite(suite: Path, out: Path) -> Path:
    from harness.engine.launch import start_run
    from harness.engine.plan import RunOptions

    start_run(suite, RunOptions(out=out, progress=False, use_cache=False))
    return out


def test_live_report_is_what_harness_report_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.report

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the follower writes a run's reports, not the runner")

    with monkeypatch.context() as patch:
        patch.setattr(harness.report, "write_reports", not_here)
        run = run_suite(tagged_suite(tmp_path, 205), tmp_path / "run")
    live = report_files(run)
    assert len([n for n in live if n.startswith(PAGES_DIR)]) == 2  # 100 in report.html, then 100 and 5
    write_reports(run)  # from the files alone
    assert report_files(run) == live


def test_every_example_is_on_exactly_one_page_and_pages_link_up(tmp_path: Path) -> None:
    run = run_suite(tagged_suite(tmp_path, 205), tmp_path / "run")
    html = (run / "report.html").read_text()
    page2, page3 = (run / PAGES_DIR / "samples-0002.html").read_text(), (run / PAGES_DIR / "samples-0003.html").read_text()
    shown = ANCHOR.findall(html) + ANCHOR.findall(page2) + ANCHOR.findall(page3)
    assert sorted(shown) == sorted(f"q{i}" for i in range(205))  # each once, none missing
    assert len(ANCHOR.findall(html)) == 100 and len(ANCHOR.findall(page3)) == 5
    assert f'href="{PAGES_DIR}/samples-0002.html">101–200</a>' in html
    assert f'href="{PAGES_DIR}/samples-0003.html">201–205</a>' in html
    assert 'href="../report.html"' in page2 and 'href="samples-0003.html">next' in page2
    assert 'href="samples-0002.html">← previous' in page3 and "next" not in page3
    for page in (page2, page3):  # the same protection as report.html
        assert "Content-Security-Policy" in page and "<script" not in page.lower()
    pages = html + page2 + page3
    for row in (json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()):
        example = pages.index(f'<details id="ex-{row["example"]["id"]}">')
        assert f"<b>{row['system']}</b>" in pages[example:pages.index("</details>", example)]


def test_a_rerendered_report_drops_pages_it_no_longer_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_suite(tagged_suite(tmp_path, 205), tmp_path / "run")
    assert len(list((run / PAGES_DIR).glob("*.html"))) == 2
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 1000)
    write_reports(run, charts=False)
    assert list((run / PAGES_DIR).glob("*.html")) == []
    assert len(ANCHOR.findall((run / "report.html").read_text())) == 205


def test_pages_laid_out_for_other_metrics_are_rebuilt(tmp_path: Path) -> None:
    """The follower lays pages out from the first sample; if later samples change the headline
    metric, they are rebuilt from the file and come out as `harness report` writes them."""
    from harness.report.follower import _follow
    from tests.report.test_report_data import make_run

    run = make_run(tmp_path / "run")
    lines = (run / "samples.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["scores"] = {"latency_s": first["scores"]["latency_s"]}  # no exact_match: another headline
    lines[0] = json.dumps(first)
    (run / "samples.jsonl").write_text("".join(line + "\n" for line in lines))
    read, write = os.pipe()
    os.write(write, (json.dumps({"charts": False}) + "\n").encode())
    with os.fdopen(read, encoding="utf-8") as order:
        answer = _follow(run, order)
    os.close(write)
    assert answer is not None and Path(answer["written"][-1]) == run / "report.html"
    followed = report_files(run)
    write_reports(run, charts=False)
    assert report_files(run) == followed
    assert "answer 1 from plain" in followed["report.html"].decode()


def test_the_follower_reads_complete_lines_only_once(tmp_path: Path) -> None:
    from harness.errors import HarnessError
    from harness.run.follow import SampleFollower

    path = tmp_path / "samples.jsonl"
    row = {"system": "a", "example": {"id": "1"}}
    path.write_text(json.dumps(row) + "\n\n" + json.dumps(row)[:10])
    follower = SampleFollower(path)
    assert list(follower.new_rows()) == [row]
    assert list(follower.new_rows()) == []  # the unfinished line waits
    with path.open("a") as handle:
        handle.write(json.dumps(row)[10:] + "\n" + json.dumps({**row, "system": "b"}) + "\n")
    assert [r["system"] for r in follower.new_rows()] == ["b"]  # ("a", "1") again: kept once, as RunView does
    with path.open("a") as handle:
        handle.write('{"system": 1}\n')
    with pytest.raises(HarnessError, match="samples.jsonl:5"):
        list(follower.new_rows())


def test_a_follower_that_fell_behind_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines that cross the read size come out whole, in order, and line numbers stay right."""
    from harness.errors import HarnessError
    from harness.run import follow

    monkeypatch.setattr(follow, "CHUNK", 64)
    path = tmp_path / "samples.jsonl"
    rows = [{"system": "s", "example": {"id": str(i), "input": "x" * (i % 90)}} for i in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"broken\n')
    reader = follow.SampleFollower(path)
    got = []
    with pytest.raises(HarnessError, match="samples.jsonl:41"):
        for row in reader.new_rows():
            got.append(row)
    assert got == rows


def test_a_failing_follower_leaves_the_reports_to_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.report.follower_handle import ReportFollower

    monkeypatch.setattr(ReportFollower, "finish", lambda self, **_: (self.stop(), None)[1])
    run = run_suite(tagged_suite(tmp_path, 5), tmp_path / "run")
    assert (run / "report.html").is_file() and len(ANCHOR.findall((run / "report.html").read_text())) == 5


def test_write_reports_draws_every_chart_and_embeds_it(tmp_path: Path) -> None:
    from tests.report.test_report_data import make_run

    run = make_run(tmp_path / "run")
    written = write_reports(run)
    report_charts = [p for p in written if p.suffix == ".svg" and not p.name.startswith("decision_")]
    decision_charts = [p for p in written if p.suffix == ".svg" and p.name.startswith("decision_")]
    assert len(report_charts) == 9 and decision_charts  # the Decision section draws its own
    images = 9 + len(decision_charts)
    assert (run / "report.html").read_text().count('<img src="data:image/svg+xml;base64,') == images
    assert write_reports(run, charts=False)[-1].name == "report.html"
    assert '<img src="data:image/svg+xml' not in (run / "report.html").read_text()


def test_the_heap_is_frozen_only_by_the_command(tmp_path: Path) -> None:
    """gc.freeze would leak a notebook's (or this test process's) objects: only `harness` uses it."""
    run_suite(tagged_suite(tmp_path, 4), tmp_path / "run")
    assert gc.get_freeze_count() == 0


def store_rows(run_id: str) -> dict[str, list[tuple]]:
    """Every row the default store keeps for `run_id` (registration time left out)."""
    from sqlalchemy import select

    from harness.store.database import RunStore
    from harness.store.schema import PER_RUN

    with RunStore.open() as store, store.read() as connection:
        out = {}
        for table in PER_RUN:
            columns = [c for c in table.c if c.name != "registered_at"]
            out[table.name] = sorted(tuple(map(repr, row)) for row in connection.execute(
                select(*columns).where(table.c.run_id == run_id)))
        return out


def test_the_run_is_stored_as_it_is_written_as_harness_runs_add_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.store.write
    from harness.run import RunView
    from harness.store.database import RunStore
    from harness.store.write import add_run

    def not_again(path: object) -> None:
        raise AssertionError("registered while written: the runner must not read the run again")

    with monkeypatch.context() as patch:
        patch.setattr(harness.store.write, "register_finished", not_again)
        run = run_suite(tagged_suite(tmp_path, 30), tmp_path / "run")
    run_id = RunView.open(run).header.run_id
    while_written = store_rows(run_id)
    assert len(while_written["samples"]) == 90 and len(while_written["runs"]) == 1
    with RunStore.open() as store:
        add_run(store, run, force=True)
    assert store_rows(run_id) == while_written


def test_an_abandoned_follower_leaves_nothing_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.store.write
    from harness.report.follower import _follow
    from tests.report.test_report_data import make_run

    monkeypatch.setattr(harness.store.write, "INSERT_BATCH", 5)  # rows go in before the end
    run = make_run(tmp_path / "run")
    batches = []
    original = harness.store.write.Registration._insert
    monkeypatch.setattr(harness.store.write.Registration, "_insert",
                        lambda self, record: (original(self, record), batches.append(len(record.scores))))
    read, write = os.pipe()
    os.close(write)  # the runner is gone before the run ended
    with os.fdopen(read, encoding="utf-8") as order:
        assert _follow(run, order) is None
    assert len(batches) >= 3  # samples went to the store in batches before the runner gave up
    assert all(rows == [] for rows in store_rows("handmade").values())


def test_a_run_without_reports_is_still_stored_by_the_follower(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.store.write
    from harness.engine.launch import start_run
    from harness.engine.plan import RunOptions
    from harness.run import RunView

    def not_again(path: object) -> None:
        raise AssertionError("registered while written: the runner must not read the run again")

    monkeypatch.setattr(harness.store.write, "register_finished", not_again)
    run = tmp_path / "run"
    start_run(tagged_suite(tmp_path, 12), RunOptions(out=run, progress=False, use_cache=False, reports=False))
    assert not (run / "report.html").exists() and not (run / PAGES_DIR).exists()
    assert len(store_rows(RunView.open(run).header.run_id)["samples"]) == 36


def test_the_command_writes_reports_and_stores_the_run_through_its_followers(tmp_path: Path) -> None:
    """`harness run` starts one follower for the reports and one for the run store (forked where
    it can): both finish with the run, and nothing is left for the runner to do."""
    import subprocess
    import sys

    from harness.store.database import RunStore
    from harness.store.read import list_runs

    suite = tagged_suite(tmp_path, 30)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HARNESS_DB": str(tmp_path / "runs.db")}
    for out, flags in (("run", []), ("bare", ["--no-report"])):
        done = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(suite), "--out", str(tmp_path / out),
                               "--no-progress", "--no-cache", *flags],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stderr.lower(), done.stderr
    assert len(ANCHOR.findall((tmp_path / "run" / "report.html").read_text())) == 30
    assert not (tmp_path / "bare" / "report.html").exists()
    with RunStore.open(str(tmp_path / "runs.db"), readonly=True) as store:
        stored = {Path(r["path"]).name: r for r in list_runs(store)}
    assert set(stored) == {"run", "bare"} and all(r["n_done"] == r["n_planned"] == 90 for r in stored.values())  # 3 systems


def test_followers_never_given_a_run_leave_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command starts its followers before it plans the run: when the suite is then refused,
    they must have opened and written nothing (the run store's file included), however long
    they had to get ready."""
    import time

    from harness.report import follower_handle

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HARNESS_DB", raising=False)
    monkeypatch.setattr(follower_handle, "_waiting", None)
    follower_handle.start_early(reports=True)
    early = follower_handle._waiting
    assert early is not None and set(early.processes) == {"reports", "store"}
    time.sleep(1.5)  # past their imports
    monkeypatch.setattr(follower_handle, "_waiting", None)
    early.stop()
    assert all(p.returncode is not None for p in early.processes.values())
    assert not (tmp_path / "cache").exists()


def test_a_reports_follower_that_cannot_start_leaves_the_reports_to_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the store's follower started: the run's reports are still written (by the runner)."""
    from harness.report import follower_handle

    spawn = follower_handle._spawn
    monkeypatch.setattr(follower_handle, "_spawn", lambda role: None if role == "reports" else spawn(role))
    monkeypatch.setenv("HARNESS_DB", str(tmp_path / "runs.db"))
    run = run_suite(tagged_suite(tmp_path, 6), tmp_path / "run")
    assert (run / "report.html").is_file() and len(ANCHOR.findall((run / "report.html").read_text())) == 6
