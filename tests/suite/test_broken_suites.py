"""Every suite under tests/broken_suites/ is refused by `harness validate` and `harness run` alike.

Each case is a folder: `suite.yaml` (and the files it names) plus `expect.yaml` with `problem` (why
it is broken) and `errors` (one fragment per problem, `{dir}` standing for the case's folder).
Both commands must exit 2 with the same message, each problem on exactly one line, no traceback,
and write nothing: no run directory, no response cache, no file in the suite folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.cli import main

CASES_DIR = Path(__file__).resolve().parents[1] / "broken_suites"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expect.yaml").is_file())
# a few cases also run as real processes: what a user's shell sees, start-up included
SUBPROCESS_CASES = ["suite_not_utf8", "yaml_syntax_error", "custom_module_syntax_error", "custom_module_exits", "corpus_symlink_escapes", "dataset_not_utf8"]


@dataclass
class Case:
    folder: Path
    work: Path  # cwd of the command; a default run directory (results/runs/...) would land here
    errors: list[str]
    env_unset: list[str]

    @property
    def suite(self) -> str:
        return str(self.folder / "suite.yaml")

    def args(self, command: str) -> list[str]:
        if command == "validate":
            return ["validate", self.suite]
        return ["run", self.suite, "--out", str(self.work / "out"), "--cache-dir", str(self.work / "cache"), "--no-progress"]


def prepare(name: str, tmp_path: Path) -> Case:
    """A copy of the case (links kept as links), so what the commands write can be seen."""
    folder = tmp_path / name
    shutil.copytree(CASES_DIR / name, folder, symlinks=True)
    expect = yaml.safe_load((folder / "expect.yaml").read_text(encoding="utf-8"))
    (folder / "expect.yaml").unlink()
    assert expect.get("problem") and expect.get("errors"), f"{name}/expect.yaml needs problem and errors"
    root = str(folder.resolve())
    work = tmp_path / "work"
    work.mkdir()
    return Case(folder, work, [e.replace("{dir}", root) for e in expect["errors"]], expect.get("env_unset") or [])


def snapshot(folder: Path) -> dict[str, str | bytes]:
    """Every entry under `folder`: a link's target, a file's bytes (byte code caches aside)."""
    found: dict[str, str | bytes] = {}
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(folder).as_posix()
        found[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else (path.read_bytes() if path.is_file() else "dir")
    return found


def problem_lines(stderr: str) -> list[str]:
    """The problems a message lists (`  - ...` lines), or its one line when it lists none."""
    lines = stderr.rstrip("\n").split("\n")
    listed = [line[4:] for line in lines if line.startswith("  - ")]
    return listed or lines


def check_refused(case: Case, code: int, stdout: str, stderr: str, before: dict[str, str | bytes], isolated_cache: Path) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    assert stderr.startswith("error: "), stderr
    assert stdout == "", stdout
    problems = problem_lines(stderr)
    for fragment in case.errors:
        assert ": " in fragment, f"{fragment!r} names no location"
        holding = [p for p in problems if fragment in p]
        assert len(holding) == 1, f"{fragment!r} should be on exactly one line of:\n{stderr}"
    assert len(problems) == len(case.errors), f"expected {len(case.errors)} problem(s), got:\n{stderr}"
    assert not (case.work / "out").exists() and not (case.work / "cache").exists()
    assert list(case.work.iterdir()) == [], "something was written in the working folder"
    assert list(isolated_cache.iterdir()) == [], "the default cache folder was touched"
    assert snapshot(case.folder) == before, "the suite folder changed"


@pytest.fixture
def no_lasting_imports(monkeypatch: pytest.MonkeyPatch):
    """Custom systems put the suite folder on sys.path and import from it; undo both."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for module in [m for m in sys.modules if m.startswith("broken_suite_")]:
        del sys.modules[module]


@pytest.mark.parametrize("name", CASES)
def test_validate_and_run_refuse_the_same_way(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    isolated_cache: Path, no_lasting_imports: None,
) -> None:
    case = prepare(name, tmp_path)
    for variable in case.env_unset:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(case.work)
    messages = {}
    for command in ("validate", "run"):
        before = snapshot(case.folder)
        code = main(case.args(command))
        stdout, stderr = capsys.readouterr()
        check_refused(case, code, stdout, stderr, before, isolated_cache)
        messages[command] = stderr
    assert messages["validate"] == messages["run"], "validate and run must share one pre-flight"


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_refused_in_a_real_process(name: str, tmp_path: Path, isolated_cache: Path) -> None:
    case = prepare(name, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in case.env_unset}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    for command in ("validate", "run"):
        before = snapshot(case.folder)
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", *case.args(command)],
            capture_output=True, text=True, cwd=case.work, env=env, timeout=120,
        )
        check_refused(case, done.returncode, done.stdout, done.stderr, before, isolated_cache)


def test_the_corpus_is_large_and_every_case_explains_itself() -> None:
    assert len(CASES) >= 50
    for name in CASES:
        expect = yaml.safe_load((CASES_DIR / name / "expect.yaml").read_text(encoding="utf-8"))
        assert set(expect) <= {"problem", "errors", "env_unset"}, name
        assert (CASES_DIR / name / "suite.yaml").exists() or (CASES_DIR / name / "suite.yaml").is_symlink(), name
