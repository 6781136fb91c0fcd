"""The run store on SQLite and on a real PostgreSQL server: the same code, the same answers.

Every check compares the store with what `RunView` (the run record's one reader) says about the
same run directory, so the store cannot drift from the files it indexes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.store.test_store_postgres import postgres_database

from harness.run import RunView
from harness.store import read
from harness.store.database import RunStore
from harness.store.samples import SampleFilter, filter_examples, page_scores, tags
from harness.store.where import WhereError
from harness.store.write import add_run, forget, missing_runs, run_dirs
from harness.view.synthetic import Spec, write_run


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    return postgres_database()


@pytest.fixture
def store(db):
    with RunStore.open(db) as opened:
        yield opened


def make(tmp_path: Path, name: str, **spec) -> Path:
    spec.setdefault("run_id", f"{name}-0000")
    return write_run(tmp_path / "runs" / name, Spec(**spec))


def brute_force(path: Path) -> dict[str, dict[str, dict[str, tuple[str, float | None]]]]:
    """example -> system -> metric -> (status, value), straight from RunView."""
    out: dict = {}
    for row in RunView.open(path).rows():
        for metric, score in row["scores"].items():
            out.setdefault(row["example"]["id"], {}).setdefault(row["system"], {})[metric] = (score["status"], score["value"])
    return out


def test_a_run_is_recorded_as_run_view_reads_it(store, tmp_path):
    path = make(tmp_path, "a", n_examples=25, error_every=6)
    result = add_run(store, path)
    assert (result.action, result.run_id, result.samples) == ("added", "a-0000", 75)
    view = RunView.open(path)
    run = read.get_run(store, "a-0000")
    assert run["path"] == str(path.resolve()) and run["suite_name"] == "synthetic" and run["status"] == "complete"
    assert (run["n_examples"], run["n_systems"], run["n_done"], run["n_errors"]) == (25, 3, 75, view.header.counts.errors)
    assert run["n_errors"] == 4 and run["git_commit"] == view.header.git.commit
    assert json.loads(run["header"])["run_id"] == "a-0000"
    parts = read.run_parts(store, "a-0000")
    assert [s["system"] for s in parts["systems"]] == ["prompt", "rag", "oracle"]
    assert [s["kind"] for s in parts["systems"]] == ["prompt", "rag", "oracle"]
    assert {m["metric"]: m["higher_is_better"] for m in parts["metrics"]}["latency_s"] is False
    stored = {(r["system"], r["metric"]): r for r in parts["summary"]}
    for row in view.summary():
        got = stored[(row.system, row.metric)]
        assert (got["n"], got["n_undefined"], got["n_error"]) == (row.n, row.n_undefined, row.n_error)
        for key in ("mean", "ci_low", "ci_high"):
            assert got[key] == pytest.approx(getattr(row, key)) if getattr(row, key) is not None else got[key] is None
    truth = brute_force(path)
    ids = list(truth)
    shown = page_scores(store, "a-0000", ids, "faithfulness")
    for example_id, systems in truth.items():
        for system, metrics in systems.items():
            status, value = metrics["faithfulness"]
            assert shown[(example_id, system)]["status"] == status
            assert shown[(example_id, system)]["value"] == (pytest.approx(value) if status == "ok" else None)
    assert run["headline_metric"] == "contains_answer"
    assert run["headline_best"] == max(r.mean for r in view.summary() if r.metric == "contains_answer")


def test_adding_again_is_idempotent_and_a_change_is_picked_up(store, tmp_path):
    path = make(tmp_path, "a")
    assert add_run(store, path).action == "added"
    assert add_run(store, path).action == "unchanged"
    before = _counts(store)
    assert add_run(store, path, force=True).action == "updated"
    assert _counts(store) == before  # replaced, not duplicated
    header = json.loads((path / "run.json").read_text())
    header["status"] = "interrupted"
    (path / "run.json").write_text(json.dumps(header))
    assert add_run(store, path).action == "updated"
    assert read.get_run(store, "a-0000")["status"] == "interrupted"


def _counts(store) -> dict[str, int]:
    from sqlalchemy import func, select

    from harness.store.schema import PER_RUN

    with store.read() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar() for t in PER_RUN}


def test_a_moved_directory_is_followed_and_a_deleted_one_reported(store, tmp_path):
    first, second = make(tmp_path, "a"), make(tmp_path, "b")
    for path in (first, second):
        add_run(store, path)
    moved = tmp_path / "elsewhere" / "a"
    moved.parent.mkdir()
    shutil.move(str(first), moved)
    assert [r["run_id"] for r in read.list_runs(store) if r["missing"]] == ["a-0000"]
    result = add_run(store, moved)
    assert (result.action, result.previous_path, result.path) == ("moved", str(first.resolve()), str(moved.resolve()))
    assert "moved" in result.describe() and str(first.resolve()) in result.describe()
    assert missing_runs(store) == []
    shutil.rmtree(second)
    assert missing_runs(store) == [("b-0000", str(second.resolve()))]
    assert forget(store, ["b-00"]) == ["b-0000"]  # a unique prefix is enough
    assert [r["run_id"] for r in read.list_runs(store)] == ["a-0000"]
    assert _counts(store)["scores"] == 20 * 3 * 6  # only a's rows are left


def test_a_directory_that_now_holds_another_run_replaces_the_old_record(store, tmp_path):
    path = make(tmp_path, "a")
    add_run(store, path)
    shutil.rmtree(path)
    make(tmp_path, "a", run_id="a-new")
    result = add_run(store, path)
    assert result.replaced == ["a-0000"]
    assert [r["run_id"] for r in read.list_runs(store)] == ["a-new"]


def test_listing_filters_and_sorts(store, tmp_path):
    make(tmp_path, "old", suite="alpha", started_at="2026-01-01T10:00:00+00:00", commit="aaaa" * 10)
    make(tmp_path, "mid", suite="alpha", started_at="2026-01-02T12:00:00+02:00", status="interrupted", commit="bbbb" * 10)
    make(tmp_path, "new", suite="beta", started_at="2026-01-03T09:00:00+00:00", accuracy={"oracle": 1.0}, commit=None)
    for path in run_dirs([tmp_path / "runs"]):
        add_run(store, path)
    ids = lambda runs: [r["run_id"][:-5] for r in runs]  # noqa: E731
    assert ids(read.list_runs(store)) == ["new", "mid", "old"]
    assert ids(read.list_runs(store, sort="started", descending=False)) == ["old", "mid", "new"]
    assert ids(read.list_runs(store, suite="alpha")) == ["mid", "old"]
    assert ids(read.list_runs(store, status="interrupted")) == ["mid"]
    assert ids(read.list_runs(store, since="2026-01-02")) == ["new", "mid"]
    assert ids(read.list_runs(store, until="2026-01-02")) == ["mid", "old"]  # a date means the whole day
    assert read.get_run(store, "mid-0000")["started_at"] == "2026-01-02T10:00:00+00:00"  # stored in UTC
    assert ids(read.list_runs(store, text="BBBB")) == ["mid"]
    assert ids(read.list_runs(store, sort="headline"))[0] == "new"
    new = read.list_runs(store, suite="beta")[0]
    assert [s["system"] for s in new["systems"]] == ["prompt", "rag", "oracle"] and new["git_commit"] is None
    assert [s["suite_name"] for s in read.suites(store)] == ["beta", "alpha"]
    with pytest.raises(read.HarnessError, match="not a date"):
        read.list_runs(store, since="yesterday")


def test_run_ids_resolve_by_unique_prefix(store, tmp_path):
    make(tmp_path, "a", run_id="abc123")
    make(tmp_path, "b", run_id="abd456")
    for path in run_dirs([tmp_path / "runs"]):
        add_run(store, path)
    assert read.resolve_run_id(store, "abc") == "abc123"
    with pytest.raises(read.UnknownRun, match="ambiguous"):
        read.resolve_run_id(store, "ab")
    with pytest.raises(read.UnknownRun, match="no run 'zzz'"):
        read.resolve_run_id(store, "zzz")
    with pytest.raises(read.UnknownRun):
        read.resolve_run_id(store, "a%")  # LIKE wildcards are literal


def test_filters_match_a_brute_force_reading_of_the_samples(store, tmp_path):
    path = make(tmp_path, "a", n_examples=60, error_every=9)
    add_run(store, path)
    truth = brute_force(path)
    parts = read.run_parts(store, "a-0000")
    names = {"systems": [s["system"] for s in parts["systems"]], "metrics": [m["metric"] for m in parts["metrics"]]}

    def ids(**spec):
        return filter_examples(store, "a-0000", SampleFilter(**spec), **names)

    def ok(example, system, metric):
        status, value = truth[example][system][metric]
        return value if status == "ok" else None

    expected = [e for e in truth if ok(e, "rag", "contains_answer") == 0 and ok(e, "oracle", "contains_answer") == 1]
    assert expected and ids(where="rag.contains_answer = 0 and oracle.contains_answer = 1") == expected
    expected = [e for e in truth if (ok(e, "rag", "token_f1") or 0) > 0.3 or truth[e]["rag"]["faithfulness"][0] == "error"]
    assert ids(where="rag.token_f1 > 0.3 or rag.faithfulness is error") == expected
    expected = [e for e in truth if ok(e, "prompt", "contains_answer") != 1]
    assert ids(where="not prompt.contains_answer = 1") == expected
    assert ids(where="prompt.recall@3 is undefined") == [e for e in truth if truth[e]["prompt"]["recall@3"][0] == "undefined"]
    errors = [e for e in truth if any(m[0] == "error" for s in truth[e].values() for m in s.values())]
    assert ids(status="error") == errors
    assert ids(status="error", system="prompt") == [e for e in truth if truth[e]["prompt"]["latency_s"][0] == "error"]
    assert ids(metric="faithfulness", status="error", system="rag") == [
        e for e in truth if truth[e]["rag"]["faithfulness"][0] == "error"]
    views = {row["example"]["id"]: row["example"]["tags"] for row in RunView.open(path).rows()}
    assert ids(tag="hard") == [e for e, t in views.items() if "hard" in t]
    assert ids(tag="hard", where="oracle.contains_answer = 1") == [
        e for e, t in views.items() if "hard" in t and ok(e, "oracle", "contains_answer") == 1]
    assert dict(tags(store, "a-0000"))["hard"] == 20
    assert ids() == list(truth)
    with pytest.raises(WhereError, match="no system 'rga'.*systems: prompt, rag, oracle"):
        ids(where="rga.contains_answer = 1")
    with pytest.raises(WhereError, match="no metric 'contains'"):
        ids(where="rag.contains = 1")


def test_only_this_runs_rows_are_filtered(store, tmp_path):
    make(tmp_path, "a", n_examples=10, accuracy={"rag": 0.0})
    make(tmp_path, "b", n_examples=10, accuracy={"rag": 1.0}, seed=3)
    for path in run_dirs([tmp_path / "runs"]):
        add_run(store, path)
    assert filter_examples(store, "a-0000", SampleFilter(where="rag.contains_answer = 1"), systems=["rag"],
                           metrics=["contains_answer"]) == []
    assert len(filter_examples(store, "b-0000", SampleFilter(where="rag.contains_answer = 1"), systems=["rag"],
                               metrics=["contains_answer"])) == 10


def test_trend_gives_each_runs_mean_oldest_first(store, tmp_path):
    make(tmp_path, "r1", started_at="2026-01-01T00:00:00+00:00", accuracy={"rag": 0.0})
    make(tmp_path, "r2", started_at="2026-01-02T00:00:00+00:00", accuracy={"rag": 1.0})
    make(tmp_path, "r3", started_at="2026-01-03T00:00:00+00:00", status="interrupted")
    make(tmp_path, "other", suite="other")
    for path in run_dirs([tmp_path / "runs"]):
        add_run(store, path)
    rows = [r for r in read.trend(store, "synthetic", "contains_answer") if r["system"] == "rag"]
    assert [(r["run_id"], r["mean"], r["kind"]) for r in rows] == [("r1-0000", 0.0, "rag"), ("r2-0000", 1.0, "rag")]
    assert len(read.trend(store, "synthetic", "contains_answer", statuses=read.STATUSES)) == 9
    assert [m["metric"] for m in read.suite_metrics(store, "synthetic")][:2] == ["contains_answer", "token_f1"]


def test_the_store_is_rebuilt_from_the_directories(db, tmp_path):
    for name in ("a", "b"):
        make(tmp_path, name)
    with RunStore.open(db) as store:
        for path in run_dirs([tmp_path / "runs"]):
            add_run(store, path)
        before = _counts(store)
    rebuilt = tmp_path / "rebuilt.db"
    with RunStore.open(str(rebuilt)) as store:
        for path in run_dirs([tmp_path / "runs"]):
            add_run(store, path)
        assert _counts(store) == before


def test_run_dirs_expands_a_folder_of_runs_and_names_what_is_not_one(tmp_path):
    make(tmp_path, "a")
    make(tmp_path, "b")
    (tmp_path / "runs" / "notes").mkdir()
    assert [p.name for p in run_dirs([tmp_path / "runs"])] == ["a", "b"]
    assert [p.name for p in run_dirs([tmp_path / "runs" / "a"])] == ["a"]
    with pytest.raises(read.HarnessError, match="no such directory"):
        run_dirs([tmp_path / "nope"])
    with pytest.raises(read.HarnessError, match="not a run directory"):
        run_dirs([tmp_path / "runs" / "notes"])


def test_many_threads_read_a_sqlite_store_at_once(tmp_path):
    """The viewer answers requests on a thread pool: a page and its charts query at once. Run in
    a child process, since the failure was SQLite crashing the process (a connection closed by
    the pool while another thread used it)."""
    import subprocess
    import sys

    path = make(tmp_path, "r1", run_id="r1111111")
    with RunStore.open(str(tmp_path / "store.db")) as writer:
        add_run(writer, path)
    code = (
        "import sys, threading\n"
        "from harness.store import read\n"
        "from harness.store.database import RunStore\n"
        "store = RunStore.open(sys.argv[1], readonly=True)\n"
        "failed = []\n"
        "def work():\n"
        "    try:\n"
        "        for _ in range(60):\n"
        "            read.get_run(store, read.resolve_run_id(store, 'r111'))\n"
        "    except Exception as error:\n"
        "        failed.append(repr(error))\n"
        "threads = [threading.Thread(target=work) for _ in range(16)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(failed[:3]); sys.exit(1 if failed else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "store.db")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_per_sample_rows_name_every_column_of_their_table():
    """The store's per-sample rows are tuples; their field names must be the table's columns, so a
    column added to the schema without a value fails here instead of at the first insert."""
    from harness.store.records import PER_SAMPLE_COLUMNS
    from harness.store.schema import metadata

    for name, columns in PER_SAMPLE_COLUMNS.items():
        assert sorted(columns) == sorted(metadata.tables[name].columns.keys()), name
