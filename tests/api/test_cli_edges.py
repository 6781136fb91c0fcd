"""The command's edges a shell user meets: --version, a closed pipe, runs with doubled samples,
and `harness report` next to a run that still writes its directory."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.report.test_report_data import make_run

ROOT = Path(__file__).resolve().parents[2]


def harness(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, **kwargs)


def test_version_names_the_installed_distribution() -> None:
    from importlib.metadata import version

    done = harness("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"harness {version('harness-eval')}"


def test_a_reader_that_stops_early_is_no_traceback(tmp_path: Path) -> None:
    """`harness cache info --json | head -c 10`: the reader leaves; the command ends quietly."""
    cache = tmp_path / "cache"
    (cache / "responses").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shell = f"{sys.executable} -m harness.cli cache info --json --cache-dir {cache} | head -c 1"
    for _ in range(3):  # the pipe closes at a different moment each time
        done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=env, timeout=120)
        assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
        assert done.stdout == "{"


def test_a_closed_stdout_mid_print_exits_141(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.cli as cli

    def writes_to_a_closed_pipe(args) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    parser = cli.build_parser()
    parser.set_defaults(command="fake", handler=writes_to_a_closed_pipe)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert main([]) == cli.EXIT_BROKEN_PIPE


def doubled_run(tmp_path: Path) -> Path:
    run = make_run(tmp_path / "run")
    lines = (run / "samples.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    with (run / "samples.jsonl").open("a", encoding="utf-8") as handle:
        handle.writelines(lines[:3])  # a second writer wrote three pairs again
    return run


@pytest.mark.parametrize("command", ["report", "decide", "compare"])
def test_commands_on_a_run_with_doubled_samples_say_so(command: str, tmp_path: Path, capsys) -> None:
    run = doubled_run(tmp_path)
    args = {"report": ["report", str(run)], "decide": ["decide", str(run)], "compare": ["compare", str(run), str(run)]}
    assert main(args[command]) == 0
    err = capsys.readouterr().err
    assert "3 duplicate (system, example) sample(s)" in err, err


def test_the_report_of_a_doubled_run_shows_the_warning(tmp_path: Path, capsys) -> None:
    run = doubled_run(tmp_path)
    assert main(["report", str(run)]) == 0
    assert "3 duplicate (system, example) sample(s)" in (run / "report.md").read_text(encoding="utf-8")
    assert "duplicate" not in (run / "run.json").read_text(encoding="utf-8")  # the record itself is not rewritten


def test_report_refuses_a_run_directory_another_process_writes(tmp_path: Path, capsys) -> None:
    run = make_run(tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         f"h = open({str(run / 'run.lock')!r}, 'a+'); fcntl.flock(h, fcntl.LOCK_EX); h.write('4242\\n'); h.flush()\n"
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["report", str(run)]) == 2
        err = capsys.readouterr().err
        assert "is writing this run directory" in err and "4242" in err, err
        assert not (run / "report.md").exists()
    finally:
        holder.communicate("")
    assert main(["report", str(run)]) == 0  # once it is done, the reports are written
    with open(run / "run.lock", "a+") as handle:  # and the report released the lock
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
