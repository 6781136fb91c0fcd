"""Reports written while a run goes on (and their paged samples) are the ones `harness report`
writes from the files; every sample is reachable from report.html; the chart worker's absence
or failure changes nothing."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest

from conftest import qa_rows, scripted_suite, write_suite
from harness.report import pages as pages_module
from harness.report import write_reports
from harness.report.pages import PAGES_DIR

ANCHOR = re.compile(r'<details id="ex-([^"]+)">')


def report_files(run: Path) -> dict[str, bytes]:
    names = ["report.md", "report.html", *sorted(f"{PAGES_DIR}/{p.name}" for p in (run / PAGES_DIR).glob("*.html"))]
    names += sorted(f"charts/{p.name}" for p in (run / "charts").glob("*.png"))
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
    from harness.launch import start_run
    from harness.plan import RunOptions

    start_run(suite, RunOptions(out=out, progress=False, use_cache=False))
    return out


def test_live_report_is_what_harness_report_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 4)
    run = run_suite(tagged_suite(tmp_path, 11), tmp_path / "run")
    live = report_files(run)
    assert len([n for n in live if n.startswith(PAGES_DIR)]) == 2  # 11 examples: 4 here, then 4 and 3
    write_reports(run)  # from the files alone
    assert report_files(run) == live


def test_every_example_is_on_exactly_one_page_and_pages_link_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 4)
    run = run_suite(tagged_suite(tmp_path, 11), tmp_path / "run")
    html = (run / "report.html").read_text()
    page2, page3 = (run / PAGES_DIR / "samples-0002.html").read_text(), (run / PAGES_DIR / "samples-0003.html").read_text()
    shown = ANCHOR.findall(html) + ANCHOR.findall(page2) + ANCHOR.findall(page3)
    assert sorted(shown) == sorted(f"q{i}" for i in range(11))  # each once, none missing
    assert len(ANCHOR.findall(html)) == 4 and len(ANCHOR.findall(page3)) == 3
    assert f'href="{PAGES_DIR}/samples-0002.html">5–8</a>' in html and f'href="{PAGES_DIR}/samples-0003.html">9–11</a>' in html
    assert 'href="../report.html"' in page2 and 'href="samples-0003.html">next' in page2
    assert 'href="samples-0002.html">← previous' in page3 and "next" not in page3
    for page in (page2, page3):  # the same protection as report.html
        assert "Content-Security-Policy" in page and "<script" not in page.lower()
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for row in rows:  # every sample's system block is on its example's page
        assert f"<b>{row['system']}</b>" in html + page2 + page3


def test_a_rerendered_report_drops_pages_it_no_longer_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 2)
    run = run_suite(tagged_suite(tmp_path, 5), tmp_path / "run")
    assert len(list((run / PAGES_DIR).glob("*.html"))) == 2
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 100)
    write_reports(run, charts=False)
    assert list((run / PAGES_DIR).glob("*.html")) == []
    assert len(ANCHOR.findall((run / "report.html").read_text())) == 5


def test_pages_laid_out_for_other_metrics_are_rebuilt(tmp_path: Path) -> None:
    """The live pages take the headline from the first sample; if later samples change it, the
    report is rebuilt from the file and comes out as `harness report` writes it."""
    from harness.report.live import LiveReport
    from harness.run import RunTally, RunView
    from test_report_data import make_run

    run = make_run(tmp_path / "run")
    lines = (run / "samples.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["scores"] = {"latency_s": first["scores"]["latency_s"]}  # no exact_match: another headline
    lines[0] = json.dumps(first)
    (run / "samples.jsonl").write_text("".join(line + "\n" for line in lines))
    view = RunView.open(run)
    live = LiveReport(run, view.header, RunTally())
    for line in lines:
        live.stats.tally.add_row(json.loads(line))
        live.feed(line)
    assert live.writer is not None and live.writer.headline == ""
    write_reports(run, live=live, charts=False)
    from_live = report_files(run)
    write_reports(run, charts=False)
    assert report_files(run) == from_live
    assert "answer 1 from plain" in from_live["report.html"].decode()


def test_the_chart_worker_draws_from_the_gathered_stats(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from harness.report.chart_worker import ChartWorker
    from harness.report.charts import render_charts
    from harness.report.data import RunData
    from test_report_data import make_run

    run = make_run(tmp_path / "run")
    data = RunData.load(run)
    worker = ChartWorker.start()
    assert worker is not None
    worker.send(run, data.stats)
    result = worker.result()
    assert result is not None and result[1] is None  # drawn by the worker, not here
    drawn = {path.name: png for path, _, png in result[0]}
    here = {path.name: png for path, _, png in render_charts(data, tmp_path / "here")}
    assert drawn == here and len(drawn) == 9  # the same charts from the stats as from the samples
    assert worker.stats_file is not None and not Path(worker.stats_file).exists()


class BrokenWorker:
    def send(self, run_dir: Path, stats: object = None) -> None:
        pass

    def result(self) -> None:
        return None  # as a worker that died

    def stop(self) -> None:
        pass


def test_charts_are_drawn_here_when_the_worker_fails(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from test_report_data import make_run

    run = make_run(tmp_path / "run")
    written = write_reports(run, worker=BrokenWorker())
    assert len([p for p in written if p.suffix == ".png"]) == 9
    assert (run / "report.html").read_text().count('<img src="data:image/png;base64,') == 9


def test_the_heap_is_frozen_only_by_the_command(tmp_path: Path) -> None:
    """gc.freeze would leak a notebook's (or this test process's) objects: only `harness` uses it."""
    run_suite(tagged_suite(tmp_path, 4), tmp_path / "run")
    assert gc.get_freeze_count() == 0
