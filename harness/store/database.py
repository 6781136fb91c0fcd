"""`RunStore`: the connection to the run store, its schema check, and one error policy.

Every database error (a file that is not a database, a server that is down, a table that is not
ours) becomes a `StoreError` that names the store and says what to do: the store is an index
that `harness runs add DIR...` can rebuild from the run directories, so that is the usual way
out. A read-only store (`harness view`) is read-only at the connection: SQLite opens the file
with `mode=ro`, PostgreSQL sessions default to read-only transactions.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import quote

from harness.errors import HarnessError
from harness.store.location import StoreLocation, locate

REBUILD = "it is an index of run directories: move it aside and rebuild it with `harness runs add DIR...`"


class StoreError(HarnessError):
    """The run store cannot be opened, read or written."""


class RunStore:
    def __init__(self, location: StoreLocation, engine: Any, readonly: bool):
        self.location = location
        self.engine = engine
        self.readonly = readonly

    @classmethod
    def open(cls, db: str | None = None, *, readonly: bool = False, create: bool | None = None) -> "RunStore":
        """The store named by `db` / HARNESS_DB / the default. `create` (default: not readonly,
        or the default file) makes a missing SQLite file and the tables; otherwise a missing
        store is an error."""
        location = locate(db)
        if create is None:
            create = not readonly or not location.explicit
        path = location.sqlite_path
        if path is not None and not path.exists():
            if not create:
                raise StoreError(
                    "no run store here yet: it is created when `harness run` finishes or by `harness runs add DIR`",
                    where=location.shown,
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create the run store's folder: {error.strerror}", where=location.shown) from None
        if readonly and create:  # a new store gets its tables first, through a writable connection
            with cls(location, _engine(location, readonly=False), readonly=False) as maker:
                maker.ensure_schema(create=True)
        store = cls(location, _engine(location, readonly=readonly), readonly)
        try:
            store.ensure_schema(create=create and not readonly)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors as StoreError naming this store."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except SQLAlchemyError as error:
            raise StoreError(describe(error), where=self.location.shown) from None
        except sqlite3.Error as error:
            raise StoreError(f"{error}; {REBUILD}", where=self.location.shown) from None

    @contextmanager
    def read(self) -> Iterator[Any]:
        with self.errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Any]:
        """One transaction: committed at the end, rolled back on any error."""
        if self.readonly:
            raise StoreError("this store is open read-only", where=self.location.shown)
        with self.errors(), self.engine.begin() as connection:
            yield connection

    def ensure_schema(self, *, create: bool) -> "RunStore":
        """Check the store's version; with `create`, make the tables of an empty database."""
        from sqlalchemy import inspect, select

        from harness.store.schema import SCHEMA_VERSION, metadata, store_info

        with self.errors():
            names = set(inspect(self.engine).get_table_names())
        if "store_info" not in names:
            if names and names.isdisjoint(metadata.tables):
                raise StoreError("not a run store: the database holds other tables and no store_info", where=self.location.shown)
            if not create:
                raise StoreError(f"not a run store (no tables); {REBUILD}", where=self.location.shown)
            with self.write() as connection:
                metadata.create_all(connection)
                connection.execute(store_info.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            return self
        with self.read() as connection:
            found = connection.execute(select(store_info.c.value).where(store_info.c.key == "schema_version")).scalar()
        try:
            version = int(found)
        except (TypeError, ValueError):
            raise StoreError(f"unreadable schema version {found!r}; {REBUILD}", where=self.location.shown) from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"made by a newer harness (store schema {version}, this harness knows {SCHEMA_VERSION}): upgrade the harness",
                where=self.location.shown,
            )
        if version < SCHEMA_VERSION or not set(metadata.tables) <= names:
            raise StoreError(f"an older or incomplete store (schema {version}); {REBUILD}", where=self.location.shown)
        return self


def describe(error: Any) -> str:
    """The first line of the driver's message, with what to do."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered or "no such table" in lowered or "no such column" in lowered:
        return f"the run store is damaged or not a run store ({text}); {REBUILD}"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the run store is read-only here ({text})"
    if "unable to open" in lowered:
        return f"cannot open the run store ({text})"
    if "connection" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return f"cannot reach the database server ({text}); check the database URL (--db or HARNESS_DB)"
    return f"run store error: {text}"


def _engine(location: StoreLocation, *, readonly: bool) -> Any:
    from sqlalchemy import create_engine, event

    if location.sqlite_path is not None:
        path = str(location.sqlite_path)

        def connect() -> sqlite3.Connection:
            if readonly:
                return sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30, check_same_thread=False)
            return sqlite3.connect(path, timeout=30, check_same_thread=False)

        # A pool that hands each thread its own connection: the "sqlite://" URL would otherwise get
        # SingletonThreadPool, which closes connections other threads still use once more than
        # five threads query (the viewer's concurrent chart requests crashed the process).
        from sqlalchemy.pool import QueuePool

        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=12)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            if not readonly:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if readonly:
        connect_args["options"] = "-c default_transaction_read_only=on"
    try:
        return create_engine(location.url, pool_pre_ping=True, connect_args=connect_args)
    except ModuleNotFoundError as error:
        raise StoreError(
            f"PostgreSQL needs its driver ({error.name}): pip install 'harness-eval[postgres]'", where=location.shown
        ) from None
