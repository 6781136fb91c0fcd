"""`harness report RUN_DIR`: rebuilds every report from files only; exit 2 on a bad run dir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.cli import main
from tests.report.test_report_data import make_run


def test_report_command_writes_and_prints_paths(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    before = {name: (run / name).read_bytes() for name in ("run.json", "samples.jsonl", "summary.csv")}
    assert main(["report", str(run)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[0] == str(run / "report.md") and printed[-1] == str(run / "report.html")
    assert str(run / "charts" / "latency.svg") in printed
    assert all(Path(p).is_file() for p in printed)
    # nothing re-run or rewritten: the run's own files are untouched
    assert before == {name: (run / name).read_bytes() for name in before}


def test_report_command_without_charts(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    assert main(["report", str(run), "--no-charts"]) == 0
    assert not (run / "charts").exists()
    assert (run / "report.html").is_file() and (run / "report.md").is_file()


def test_missing_run_dir_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no such run directory" in capsys.readouterr().err


def test_folder_without_run_json_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory (no run.json)" in capsys.readouterr().err


def test_corrupt_files_exit_2(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    (run / "summary.csv").write_text("system,metric,mean\nx,y,notanumber\n")
    assert main(["report", str(run)]) == 2
    assert "unreadable summary.csv" in capsys.readouterr().err
    (run / "run.json").write_text("{broken")
    assert main(["report", str(run)]) == 2
    assert "unreadable run.json" in capsys.readouterr().err


def test_help_lists_report_without_heavy_imports():
    code = (
        "import sys; from harness.cli import build_parser; build_parser().format_help();"
        "print(sorted(m for m in ('pandas', 'harness.report.data', 'harness.report.charts') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    helptext = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True)
    assert "report" in helptext.stdout


def test_a_run_with_no_samples_yet_still_reports(tmp_path, capsys):
    from harness.run import RunHeader, RunWriter

    run = tmp_path / "run"
    RunWriter.create(run, RunHeader(run_id="x", suite={"name": "empty"}, systems={"a": {"kind": "prompt"}})).close()
    assert main(["report", str(run)]) == 0
    text = (run / "report.md").read_text()
    assert "run status is 'running'" in text and "No scores recorded." in text
    assert "No samples." in (run / "report.html").read_text()
