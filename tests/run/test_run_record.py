"""The run record: one reader for version-1 and version-2 run directories, declared metric
directions, the torn-line rule, duplicate pairs, and one writer per directory."""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.run import RunHeader, RunLockedError, RunView, RunWriter
from harness.run.summary import read_summary
from tests.conftest import ROOT, qa_rows, scripted_suite, write_suite

FIXTURE = ROOT / "tests" / "fixtures" / "run_v1"


@pytest.fixture
def v1_run(tmp_path: Path) -> Path:
    """A copy of a run directory written by the harness before schema version 2."""
    run = tmp_path / "v1"
    shutil.copytree(FIXTURE / "run", run)
    return run


def _rows(result: dict) -> list[dict]:
    keep = ("system", "metric", "higher_is_better", "base_mean", "new_mean", "n_paired", "delta", "ci_low", "ci_high",
            "p_value", "p_holm", "verdict")
    return [{k: row[k] for k in keep} for row in result["rows"]]


def test_a_version_1_run_reads_as_version_2(v1_run: Path):
    view = RunView.open(v1_run)
    header = view.header
    assert header.schema_version == 2 and header.suite.name == "v1-fixture"
    assert header.environment["python"] and "python" not in header.settings.model_dump()
    assert header.settings.bootstrap_samples == 1000 and header.judge.max_error_rate == 0.1
    assert header.metric_info == {}  # not recorded then: directions come from the name rule
    assert view.info("latency_s").higher_is_better is False and view.info("contains_answer").higher_is_better
    rows = list(view.rows())
    assert len(rows) == 12 and view.duplicates == 0 and not view.torn_tail
    assert {s.system for s in view.samples()} == {"plain", "echo"}


def test_the_summary_recomputed_from_a_v1_run_matches_the_one_it_wrote(v1_run: Path):
    written = read_summary(v1_run / "summary.csv")
    recomputed = RunView.open(v1_run).compute_summary()
    assert [(r.system, r.metric, r.n, r.n_undefined, r.n_error) for r in recomputed] == \
           [(r.system, r.metric, r.n, r.n_undefined, r.n_error) for r in written]
    for new, old in zip(recomputed, written):  # v1 wrote 6 significant digits
        assert (new.mean is None and old.mean is None) or float(f"{new.mean:.6g}") == old.mean, (new.system, new.metric)
        for field in ("ci_low", "ci_high"):
            # v1 resampled the values in the order samples finished; the values are now sorted
            # first, so the interval no longer depends on that order (same values, same CI)
            a, b = getattr(new, field), getattr(old, field)
            assert (a is None and b is None) or a == pytest.approx(b, rel=0.02), (new.system, new.metric, field)


def test_the_interval_does_not_depend_on_the_order_samples_finished(v1_run: Path):
    samples = v1_run / "samples.jsonl"
    before = RunView.open(v1_run).compute_summary()
    samples.write_text("".join(reversed(samples.read_text().splitlines(keepends=True))))
    assert RunView.open(v1_run).compute_summary() == before


def test_report_compare_and_gate_on_a_v1_run_give_what_they_gave_before(v1_run: Path, tmp_path: Path, capsys):
    assert main(["report", str(v1_run), "--no-charts"]) == 0
    # the numbers are those the old code reported (the systems table has since gained totals,
    # and the tags section tables of the lower-is-better metrics, which it left out)
    new, old = (v1_run / "report.md").read_text(), (FIXTURE / "expected" / "report.md").read_text()
    added = re.compile(r"\n### [^\n]* \(lower is better\)\n.*?(?=\n##|\Z)", re.S)
    assert "(lower is better)" in new and "(lower is better)" not in old
    assert added.sub("", new.split("## Results", 1)[1]) == old.split("## Results", 1)[1]
    out = tmp_path / "compare.json"
    assert main(["compare", str(FIXTURE / "expected" / "baseline.json"), str(v1_run), "--format", "json", "--out", str(out)]) == 0
    before = json.loads((FIXTURE / "expected" / "compare.json").read_text())
    assert _rows(json.loads(out.read_text())) == _rows(before)
    gate = tmp_path / "gate.json"
    code = main(["gate", str(v1_run), "--baseline", str(FIXTURE / "expected" / "baseline.json"),
                 "--suite", str(FIXTURE / "suite.yaml"), "--json", str(gate)])
    old = json.loads((FIXTURE / "expected" / "gate.json").read_text())
    new = json.loads(gate.read_text())
    assert code == old["exit_code"] == 0
    assert [(c["system"], c["metric"], c["status"], c["message"]) for c in new["checks"]] == \
           [(c["system"], c["metric"], c["status"], c["message"]) for c in old["checks"]]


def test_a_new_run_records_every_metric_direction_and_unit(tmp_path: Path):
    suite = write_suite(tmp_path, scripted_suite(qa_rows(3)))
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", "--no-report"]) == 0
    view = RunView.open(tmp_path / "run")
    info = view.header.metric_info
    assert view.header.schema_version == 2
    assert set(info) == {m for (_, m) in view.tally().cells}
    assert info["exact_match"].higher_is_better and info["exact_match"].group == "correctness"
    assert not info["latency_s"].higher_is_better and info["latency_s"].unit == "s"
    assert info["cost_usd"].unit == "usd" and info["tokens_in"].unit == "tokens"


def test_compare_reads_the_declared_direction_not_the_name(tmp_path: Path):
    from harness.compare.baseline import load
    from harness.compare.compare import compare
    from harness.compare.synthetic import write_run

    values = {"s": {f"e{i}": {"declines": float(i < 8)} for i in range(20)}}
    worse = {"s": {f"e{i}": {"declines": float(i < 18)} for i in range(20)}}
    paths = [write_run(tmp_path / name, v, run_id=name) for name, v in (("base", values), ("new", worse))]
    for path in paths:  # the metric said: lower is better (a rate of wrong refusals)
        header = json.loads((path / "run.json").read_text())
        header["metric_info"] = {"declines": {"higher_is_better": False, "unit": None, "group": "abstention"}}
        (path / "run.json").write_text(json.dumps(header))
    row = compare(load(paths[0]), load(paths[1])).row("s", "declines")
    assert row is not None and row.higher_is_better is False and row.delta == pytest.approx(0.5)
    assert row.verdict(0.05) == "worse"


def test_a_torn_last_line_is_skipped_and_a_broken_middle_line_is_located(v1_run: Path):
    samples = v1_run / "samples.jsonl"
    text = samples.read_text()
    samples.write_text(text + text.splitlines()[0][:57])  # a kill in the middle of a write
    view = RunView.open(v1_run)
    assert len(list(view.rows())) == 12 and view.torn_tail
    lines = text.splitlines(keepends=True)
    samples.write_text("".join(lines[:3]) + "{oops\n" + "".join(lines[3:]))
    with pytest.raises(HarnessError) as found:
        list(RunView.open(v1_run).rows())
    assert "samples.jsonl:4" in str(found.value) and "not JSON" in str(found.value)


def test_a_byte_order_mark_is_accepted(v1_run: Path):
    samples = v1_run / "samples.jsonl"
    samples.write_bytes(b"\xef\xbb\xbf" + samples.read_bytes())
    assert len(list(RunView.open(v1_run).rows())) == 12


def test_a_pair_written_twice_is_counted_once_and_refused_by_baseline_and_gate(v1_run: Path, tmp_path: Path, capsys):
    samples = v1_run / "samples.jsonl"
    lines = samples.read_text().splitlines(keepends=True)
    samples.write_text("".join(lines) + lines[0] + lines[5])
    view = RunView.open(v1_run)
    assert len(list(view.rows())) == 12 and view.duplicates == 2
    assert view.compute_summary()[0].n == 6
    capsys.readouterr()
    assert main(["baseline", "save", str(v1_run), "--out", str(tmp_path / "b.json")]) == 2
    assert "2 duplicate (system, example)" in capsys.readouterr().err and not (tmp_path / "b.json").exists()
    code = main(["gate", str(v1_run), "--baseline", str(FIXTURE / "expected" / "baseline.json"),
                 "--suite", str(FIXTURE / "suite.yaml")])
    assert code == 2 and "duplicate" in capsys.readouterr().err


def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path):
    header = RunHeader(run_id="x", systems={"a": {"kind": "prompt"}})
    with RunWriter.create(tmp_path / "run", header):
        with pytest.raises(RunLockedError) as found:
            RunWriter.reopen(tmp_path / "run")
        assert f"PID {os.getpid()}" in str(found.value)
    RunWriter.reopen(tmp_path / "run").close()  # released on exit


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path):
    run = tmp_path / "run"
    RunWriter.create(run, RunHeader(run_id="x")).close()
    code = ("import sys, time; from harness.run import RunWriter; w = RunWriter.reopen(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"PID {holder.pid}"):
            RunWriter.reopen(run)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        RunWriter.reopen(run).close()  # the kernel released the dead process's lock
    finally:
        holder.kill()


def test_two_resumes_of_one_run_never_double_samples(tmp_path: Path):
    """A slow run is interrupted, then resumed by two processes at once: one finishes it, the
    other exits 2 naming the first's PID; every pair is in samples.jsonl exactly once."""
    suite = scripted_suite(qa_rows(12))
    suite["scripted_models"]["adder"]["latency_ms"] = 150
    suite["settings"] = {"concurrency": 2}
    path = write_suite(tmp_path, suite)
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "harness.cli", "run"]
    first = subprocess.Popen(cmd + [str(path), "--out", str(run), "--no-progress", "--no-report"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not ((run / "samples.jsonl").exists() and (run / "samples.jsonl").read_text().count("\n") >= 4):
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    assert first.wait(30) == 130
    resumes = [subprocess.Popen(cmd + ["--resume", str(run), "--no-progress", "--no-report"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(60), p.stderr.read()) for p in resumes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "another harness process (PID" in refused
    view = RunView.open(run)
    rows = list(view.rows())
    assert view.duplicates == 0 and len(rows) == 36 and view.header.status == "complete"
    assert view.header.counts.done == 36


def test_samples_reach_the_file_at_once_or_by_the_loops_next_turn(tmp_path: Path):
    """Outside an event loop a sample is flushed as it is appended; inside one, every sample
    appended in a turn of the loop is flushed once, before the loop's next turn."""
    import asyncio

    from harness.run.record import Sample
    from harness.types import Example, Response

    def sample(i: int) -> Sample:
        return Sample(system="s", example=Example(id=str(i), input="q"), response=Response(text="a"))

    def on_disk(run: Path) -> int:
        return (run / "samples.jsonl").read_text().count("\n")

    with RunWriter.create(tmp_path / "sync", RunHeader(run_id="x")) as run:
        run.append(sample(0))
        assert on_disk(run.path) == 1

    async def in_a_loop(run: RunWriter) -> list[int]:
        seen = []
        for i in range(3):
            run.append(sample(i))
        seen.append(on_disk(run.path))  # still this turn: buffered
        await asyncio.sleep(0)
        seen.append(on_disk(run.path))  # the flush ran before this task's next step
        run.append(sample(3))
        run.flush()  # what the runner does before it tells anyone the run is written
        seen.append(on_disk(run.path))
        return seen

    with RunWriter.create(tmp_path / "async", RunHeader(run_id="y")) as run:
        assert asyncio.run(in_a_loop(run)) == [0, 3, 4]
