"""`harness runs`, the store's locations and errors, and `harness run` registering its run."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from tests.conftest import qa_rows, scripted_suite, write_suite

from harness.cli import main
from harness.store import read
from harness.store.database import RunStore, StoreError
from harness.store.location import locate
from harness.view.synthetic import Spec, write_run


def make(tmp_path: Path, name: str, **spec) -> Path:
    spec.setdefault("run_id", f"{name}-0000")
    return write_run(tmp_path / "runs" / name, Spec(**spec))


def test_the_default_store_is_in_the_cache_folder_and_harness_db_overrides_it(monkeypatch, tmp_path, isolated_cache):
    monkeypatch.delenv("HARNESS_DB", raising=False)
    assert locate().sqlite_path == (isolated_cache / "runs.db").resolve()
    monkeypatch.setenv("HARNESS_DB", str(tmp_path / "team.db"))
    assert locate().sqlite_path == (tmp_path / "team.db").resolve() and locate().explicit
    monkeypatch.setenv("HARNESS_DB", "postgresql://me:secret@db.example/runs")
    where = locate()
    assert where.url.startswith("postgresql+psycopg://me:secret@") and "secret" not in where.shown
    assert locate(str(tmp_path / "cli.db")).sqlite_path == (tmp_path / "cli.db").resolve()  # --db wins
    monkeypatch.setenv("HARNESS_DB", "mysql://x@y/z")
    with pytest.raises(read.HarnessError, match="unsupported database 'mysql'"):
        locate()
    monkeypatch.setenv("HARNESS_DB", "off")
    with pytest.raises(read.HarnessError, match="switched off"):
        locate()


def test_a_corrupt_store_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "runs.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="damaged or not a run store.*rebuild it with `harness runs add DIR...`"):
        RunStore.open(str(bad))
    assert main(["runs", "--db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: the run store is damaged") and "Traceback" not in err


def test_a_database_that_is_not_a_store_or_is_newer_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(StoreError, match="not a run store"):
        RunStore.open(str(other))
    newer = tmp_path / "newer.db"
    RunStore.open(str(newer)).close()
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE store_info SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer harness"):
        RunStore.open(str(newer))


def test_a_missing_store_named_explicitly_is_an_error_for_readers(tmp_path, capsys):
    assert main(["runs", "--db", str(tmp_path / "typo.db")]) == 2
    assert "no run store here yet" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()


def test_runs_add_list_and_forget(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    a = make(tmp_path, "a", suite="alpha", started_at="2026-02-01T08:00:00+00:00")
    make(tmp_path, "b", suite="beta", started_at="2026-02-02T08:00:00+00:00", status="interrupted")
    assert main(["runs", "add", str(tmp_path / "runs"), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "added     a-0000" in out and "added     b-0000" in out and f"store: {db}" in out
    assert main(["runs", "add", str(a), "--db", db]) == 0
    assert "unchanged a-0000" in capsys.readouterr().out
    assert main(["runs", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["RUN", "STARTED", "(UTC)"]
    assert [line.split()[0] for line in lines[1:]] == ["b-0000", "a-0000"]
    assert "interrupted" in lines[1] and "contains_answer" in lines[1]
    assert main(["runs", "--suite", "alpha", "--db", db]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["a-0000"]
    assert main(["runs", "list", "--status", "interrupted", "--json", "--db", db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in listed] == ["b-0000"] and "header" not in listed[0]
    assert main(["runs", "--since", "2026-03-01", "--db", db]) == 0
    assert "no runs in the store" in capsys.readouterr().out
    shutil.rmtree(a)
    assert main(["runs", "add", str(tmp_path / "runs"), "--db", db]) == 0
    captured = capsys.readouterr()
    assert "unchanged b-0000" in captured.out
    assert "1 run(s) in the store have no directory any more" in captured.err and "missing   a-0000" in captured.err
    assert main(["runs", "--db", db]) == 0
    captured = capsys.readouterr()
    assert "complete (missing)" in captured.out and "marked missing" in captured.err
    assert main(["runs", "forget", "--missing", "--db", db]) == 0
    assert "forgot    a-0000" in capsys.readouterr().out
    assert main(["runs", "forget", "zzz", "--db", db]) == 2
    assert "no run 'zzz'" in capsys.readouterr().err


def test_runs_add_reports_a_bad_directory_and_adds_the_others(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    good = make(tmp_path, "good")
    broken = tmp_path / "runs" / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    assert main(["runs", "add", str(broken), str(good), str(tmp_path / "nope"), "--db", db]) == 2
    captured = capsys.readouterr()
    assert "added     good-0000" in captured.out
    assert f"error: {broken}: unreadable run.json" in captured.err and f"error: {tmp_path / 'nope'}: no such directory" in captured.err


def _suite(tmp_path: Path) -> Path:
    return write_suite(tmp_path, scripted_suite(qa_rows(3)))


def test_harness_run_registers_its_run_in_the_default_store(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HARNESS_DB", raising=False)
    out = tmp_path / "run"
    assert main(["run", str(_suite(tmp_path)), "--out", str(out), "--no-progress", "--no-report"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(out)
    with RunStore.open(readonly=True) as store:
        runs = read.list_runs(store)
        assert [r["path"] for r in runs] == [str(out.resolve())]
        assert runs[0]["status"] == "complete" and runs[0]["n_done"] == 9 and runs[0]["suite_name"] == "scripted"
        assert [s["system"] for s in runs[0]["systems"]] == ["plain", "cued", "echo"]


def test_a_store_failure_never_fails_the_run(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 500)
    monkeypatch.setenv("HARNESS_DB", str(bad))
    out = tmp_path / "run"
    assert main(["run", str(_suite(tmp_path)), "--out", str(out), "--no-progress", "--no-report"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == str(out)
    assert "warning: the run was not added to the run store" in captured.err
    assert f"`harness runs add {out}` adds it later" in captured.err
    assert (out / "summary.csv").is_file()


def test_harness_db_off_skips_registration_silently(tmp_path, capsys, monkeypatch, isolated_cache):
    monkeypatch.setenv("HARNESS_DB", "off")
    assert main(["run", str(_suite(tmp_path)), "--out", str(tmp_path / "run"), "--no-progress", "--no-report"]) == 0
    assert "run store" not in capsys.readouterr().err
    assert not (isolated_cache / "runs.db").exists()
    assert main(["runs"]) == 2
    assert "switched off (HARNESS_DB=off)" in capsys.readouterr().err


def test_help_stays_light():
    import subprocess
    import sys

    code = ("import sys, harness.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('sqlalchemy', 'starlette', 'uvicorn', 'jinja2', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "[]"
