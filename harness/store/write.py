"""Adding run directories to the store, keyed by run id, and registering a run that just finished.

Adding is idempotent: a run's rows are replaced as a whole in one transaction, and a directory
whose files did not change since it was added is not read again. A run found at a new path is
moved (the store follows the directory); a path that now holds another run forgets the old one.
Runs whose directory is gone stay listed (marked missing) until `harness runs forget`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.errors import HarnessError
from harness.run import RunView, now
from harness.run.writer import HEADER
from harness.store.database import RunStore
from harness.store.records import RunRecord, fingerprint, record_of

INSERT_BATCH = 5000


@dataclass
class AddResult:
    run_id: str
    path: str
    action: str  # "added", "updated", "moved" or "unchanged"
    previous_path: str | None = None
    replaced: list[str] = field(default_factory=list)  # runs whose directory now holds this one
    samples: int = 0

    def describe(self) -> str:
        text = f"{self.action:9} {self.run_id[:12]}  {self.path}"
        if self.action == "moved":
            text += f"  (was {self.previous_path})"
        if self.replaced:
            text += f"  (replaces {', '.join(r[:12] for r in self.replaced)}, whose directory this was)"
        return text


def run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Each path is a run directory, or a folder whose sub-folders are run directories (such as
    results/runs). Anything else is an error naming it."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise HarnessError("no such directory", where=str(path))
        if (path / HEADER).is_file():
            found.append(path)
            continue
        children = sorted(p for p in path.iterdir() if p.is_dir() and (p / HEADER).is_file())
        if not children:
            raise HarnessError(f"not a run directory (no {HEADER}) and holds no run directories", where=str(path))
        found += children
    return found


def add_run(store: RunStore, path: str | Path, *, force: bool = False) -> AddResult:
    """Add or refresh one run directory; `force` re-reads it even when its files look unchanged."""
    from sqlalchemy import select

    from harness.store.schema import runs

    view = RunView.open(path)
    where = str(view.path.resolve())
    run_id = view.header.run_id
    with store.read() as connection:
        known = connection.execute(select(runs.c.path, runs.c.fingerprint).where(runs.c.run_id == run_id)).first()
    if known is not None and not force and known.path == where and known.fingerprint == fingerprint(view.path):
        return AddResult(run_id, where, "unchanged")
    record = record_of(view, registered_at=now())
    replaced = save(store, record)
    if known is None:
        action, previous = "added", None
    elif known.path != where:
        action, previous = "moved", known.path
    else:
        action, previous = "updated", None
    return AddResult(run_id, where, action, previous, replaced, len(record.samples))


def save(store: RunStore, record: RunRecord) -> list[str]:
    """Replace the run's rows in one transaction; returns the run ids forgotten because their
    recorded directory is this run's."""
    from sqlalchemy import select

    from harness.store.schema import PER_RUN, run_metrics, run_systems, runs, summary

    with store.write() as connection:
        stale = [
            r for r in connection.execute(select(runs.c.run_id).where(runs.c.path == record.run["path"])).scalars()
            if r != record.run_id
        ]
        for table in PER_RUN:
            connection.execute(table.delete().where(table.c.run_id.in_([record.run_id, *stale])))
        connection.execute(runs.insert(), [record.run])
        for table, rows in ((run_systems, record.systems), (run_metrics, record.metrics), (summary, record.summary)):
            if rows:
                connection.execute(table.insert(), rows)
        for name, tuples in record.per_sample():
            for start in range(0, len(tuples), INSERT_BATCH):
                insert_rows(connection, name, tuples[start:start + INSERT_BATCH])
    refresh_statistics(store)
    return stale


class Registration:
    """A run added to the store while it is written (by the process following samples.jsonl):
    per-sample rows go in as batches of INSERT_BATCH rows, each its own short transaction, so
    memory stays flat and the end of the run only adds the run's own rows. Until then the run
    has no `runs` row, and every reader reaches samples through it, so a half-added run is
    never seen; `abandon` removes its rows."""

    def __init__(self, store: RunStore, run_id: str):
        from harness.store.records import RecordBuilder
        from harness.store.schema import PER_RUN

        self.store = store
        self.builder = RecordBuilder(run_id)
        self.inserted_at = 0.0
        with store.write() as connection:  # a resumed run is read again from its first sample
            for table in PER_RUN:
                connection.execute(table.delete().where(table.c.run_id == run_id))

    def add(self, row: dict[str, Any]) -> None:
        self.builder.add(row)
        if self.builder.pending() >= INSERT_BATCH:
            self.tick(at_once=True)

    def tick(self, *, at_once: bool = False) -> None:
        """Insert what is pending if a batch is full or a second has passed: the end of the run
        then has little left to insert."""
        import time

        if self.builder.pending() and (at_once or time.monotonic() - self.inserted_at >= 1.0):
            self._insert(self.builder.take())
            self.inserted_at = time.monotonic()

    def _insert(self, record: RunRecord) -> None:
        with self.store.write() as connection:
            for name, rows in record.per_sample():
                insert_rows(connection, name, rows)

    def finish(self, view: RunView, *, duplicates: int) -> None:
        """The run's own rows and the last samples, in one transaction: the run appears whole."""
        from sqlalchemy import select

        from harness.store.records import fingerprint
        from harness.store.schema import PER_RUN, run_metrics, run_systems, runs, summary

        stamp = fingerprint(view.path)
        record = self.builder.finish(view, registered_at=now(), stamp=stamp, duplicates=duplicates)
        self._insert(record)  # the last samples first: still invisible without the run's row
        with self.store.write() as connection:
            stale = [
                r for r in connection.execute(select(runs.c.run_id).where(runs.c.path == record.run["path"])).scalars()
                if r != record.run_id
            ]
            for table in PER_RUN:
                if stale:
                    connection.execute(table.delete().where(table.c.run_id.in_(stale)))
            connection.execute(runs.insert(), [record.run])
            for table, rows in ((run_systems, record.systems), (run_metrics, record.metrics), (summary, record.summary)):
                if rows:
                    connection.execute(table.insert(), rows)
        refresh_statistics(self.store)

    def abandon(self) -> None:
        forget_rows(self.store, self.builder.run_id)


def insert_rows(connection: Any, name: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` into the per-sample table `name`, tuples of its PER_SAMPLE_COLUMNS. On SQLite
    through the driver's executemany: SQLAlchemy's per-row parameter handling cost more than
    SQLite's own work."""
    from harness.store.records import PER_SAMPLE_COLUMNS
    from harness.store.schema import metadata

    if not rows:
        return
    columns = PER_SAMPLE_COLUMNS[name]
    if connection.dialect.name != "sqlite":
        connection.execute(metadata.tables[name].insert(), [dict(zip(columns, row)) for row in rows])
        return
    names = ", ".join(f'"{column}"' for column in columns)  # the schema's own names
    connection.exec_driver_sql(f'INSERT INTO "{name}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def forget_rows(store: RunStore, run_id: str) -> None:
    from harness.store.schema import PER_RUN

    with store.write() as connection:
        for table in PER_RUN:
            connection.execute(table.delete().where(table.c.run_id == run_id))



def refresh_statistics(store: RunStore) -> None:
    """Planner statistics after a bulk insert. Without them PostgreSQL takes a fresh table for
    empty and joins the filter's subqueries by nested loops, far slower once it has grown.
    SQLite's `PRAGMA optimize` does the same where it is worth it."""
    from sqlalchemy import text

    from harness.store.schema import example_tags, examples, samples, scores

    with store.write() as connection:
        if store.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE " + ", ".join(t.name for t in (scores, samples, examples, example_tags))))
        else:
            # a sample of each index, not all of it: a full ANALYZE of a large store is slow, and
            # would run at the end of every run whose tables had grown enough
            connection.execute(text("PRAGMA analysis_limit=1000"))
            connection.execute(text("PRAGMA optimize"))


def forget(store: RunStore, run_ids: Iterable[str]) -> list[str]:
    """Remove runs (by id or unique id prefix) from the store; returns the ids removed."""
    from harness.store.read import resolve_run_id
    from harness.store.schema import PER_RUN

    ids = [resolve_run_id(store, r) for r in run_ids]
    with store.write() as connection:
        for table in PER_RUN:
            connection.execute(table.delete().where(table.c.run_id.in_(ids)))
    return ids


def missing_runs(store: RunStore) -> list[tuple[str, str]]:
    """(run id, recorded path) of runs whose directory is gone or now holds another run."""
    from harness.store.read import list_runs

    return [(r["run_id"], r["path"]) for r in list_runs(store, limit=None) if r["missing"]]


def register_finished(path: Any) -> None:
    """Add a run that just finished to the default store. Never raises: the run directory is
    already complete, so a store problem is a warning with the command that adds it later."""
    from harness.store.location import store_off

    if store_off():
        return

    try:
        with RunStore.open() as store:
            add_run(store, path, force=True)
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - the run must survive any store failure
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, ModuleNotFoundError):
            reason = f"{error.name} is not installed"
        print(f"warning: the run was not added to the run store ({reason}); "
              f"`harness runs add {path}` adds it later", file=sys.stderr)
