"""A real PostgreSQL server for the run-store tests, started once per test session.

Debian's `postgresql` package (installed by .ci/run) provides initdb and pg_ctl; the server runs
as the `postgres` user when the tests run as root (PostgreSQL refuses root), listens on
127.0.0.1 on a free port with trust authentication, and is stopped and deleted at exit. Each
test gets a fresh database. Where the server cannot start, the tests skip and say why.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

_server: dict[str, object] = {}


def _binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start() -> str:
    """The server's base URL, or the reason it cannot run here (raised as pytest.skip)."""
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        pytest.skip("psycopg is not installed (pip install 'harness-eval[postgres]')")
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="harness-pg-")
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        runuser = shutil.which("runuser")
        if not runuser:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip("running as root and `runuser` (util-linux) is missing to start the server as `postgres`")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data, log, port = os.path.join(folder, "db"), os.path.join(folder, "log"), _free_port()

    def call(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(prefix + args, capture_output=True, text=True, timeout=180)

    done = call([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
    if done.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {(done.stderr or done.stdout)[-500:]}")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    done = call([pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"])
    if done.returncode:
        tail = open(log, encoding="utf-8", errors="replace").read()[-800:] if os.path.exists(log) else done.stderr
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {tail}")

    def stop() -> None:
        call([pg_ctl, "-D", data, "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}"


def postgres_database() -> str:
    """A URL to a new, empty database on the session's server (started on first use)."""
    if "error" in _server:
        pytest.skip(str(_server["error"]))
    if "url" not in _server:
        try:
            _server["url"] = _start()
        except pytest.skip.Exception as reason:
            _server["error"] = str(reason)
            raise
    import psycopg

    base = str(_server["url"])
    name = f"store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


@pytest.fixture
def postgres_url() -> str:
    return postgres_database()


def test_the_server_answers_and_the_store_is_created_on_it(postgres_url):
    from sqlalchemy import inspect

    from harness.store.database import RunStore

    with RunStore.open(postgres_url) as store:
        assert store.location.shown.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        tables = set(inspect(store.engine).get_table_names())
    assert {"runs", "summary", "scores", "samples", "examples", "example_tags", "run_systems", "store_info"} <= tables


def test_a_read_only_store_on_postgres_refuses_writes_at_the_connection(postgres_url):
    from sqlalchemy import text

    from harness.store.database import RunStore, StoreError

    RunStore.open(postgres_url).close()
    with RunStore.open(postgres_url, readonly=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            with store.errors(), store.engine.begin() as connection:
                connection.execute(text("DELETE FROM runs"))


def test_the_viewer_reads_a_postgres_store(postgres_url, tmp_path):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from harness.run import RunView
    from harness.store.database import RunStore
    from harness.store.write import add_run
    from harness.view.app import create_app
    from harness.view.synthetic import Spec, write_run

    path = write_run(tmp_path / "run", Spec(run_id="pg-run", n_examples=12))
    with RunStore.open(postgres_url) as store:
        add_run(store, path)
    rows = {}
    for row in RunView.open(path).rows():
        score = row["scores"]["contains_answer"]
        rows.setdefault(row["example"]["id"], {})[row["system"]] = score["value"] if score["status"] == "ok" else None
    expected = [e for e, s in rows.items() if s["rag"] == 0 and s["oracle"] == 1]
    with RunStore.open(postgres_url, readonly=True) as store, TestClient(create_app(store, hosts=["testserver"])) as client:
        assert "pg-run" in client.get("/").text
        assert client.get("/runs/pg-run").status_code == 200
        html = client.get("/runs/pg-run/samples?where=rag.contains_answer+%3D+0+and+oracle.contains_answer+%3D+1").text
        assert f"<b>{len(expected)}</b> of 12 examples match" in html
        assert all(f">{e}</code>" in html for e in expected)
        assert client.get("/trends?suite=synthetic").status_code == 200
