"""`harness view` from the command line: it serves on 127.0.0.1, and refuses clearly (exit 2, no
traceback) a damaged store, a missing one named with --db, and a port in use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.store.database import RunStore
from harness.store.write import add_run
from harness.view.synthetic import Spec, write_run

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_harness_view_serves_the_store_on_localhost(tmp_path):
    import httpx

    db = tmp_path / "runs.db"
    with RunStore.open(str(db)) as store:
        add_run(store, write_run(tmp_path / "run", Spec(run_id="served01", n_examples=4)))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "view", "--db", str(db), "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, response = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/runs/served01", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, process.stderr.read() if process.poll() is not None else "no answer"
        assert response.status_code == 200 and "served01" in response.text
        assert "script-src 'none'" in response.headers["content-security-policy"]
        assert httpx.post(f"http://127.0.0.1:{port}/", timeout=5).status_code == 405
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert f"serving http://127.0.0.1:{port}/" in out and "1 run(s) from" in out
    assert "Traceback" not in err


def test_a_damaged_store_stops_harness_view_before_it_serves(tmp_path, capsys):
    bad = tmp_path / "runs.db"
    bad.write_bytes(b"\x00garbage" * 400)
    assert main(["view", "--db", str(bad), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "the run store is damaged or not a run store" in err and "Traceback" not in err


def test_a_missing_store_named_with_db_is_an_error(tmp_path, capsys):
    assert main(["view", "--db", str(tmp_path / "nope.db")]) == 2
    assert "no run store here yet" in capsys.readouterr().err


def test_a_port_in_use_is_an_error(tmp_path, capsys):
    RunStore.open(str(tmp_path / "fresh.db")).close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["view", "--db", str(tmp_path / "fresh.db"), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "pass another --port" in err


def test_port_must_be_a_port(capsys):
    assert main(["view", "--port", "0"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err
