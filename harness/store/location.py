"""Which database the run store is: `--db`, else `HARNESS_DB`, else `runs.db` in the cache folder.

A value with `://` is a SQLAlchemy URL (`postgresql://user@host/db`, `sqlite:///path`); anything
else is the path of a SQLite file. `HARNESS_DB=off` switches the store off: runs are then not
registered and `harness runs` / `harness view` say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

ENV = "HARNESS_DB"
DEFAULT_FILE = "runs.db"
OFF = {"off", "none", "0", "false", "no"}


@dataclass(frozen=True)
class StoreLocation:
    url: str  # for SQLAlchemy; may hold a password
    shown: str  # for messages: the file path, or the URL without its password
    sqlite_path: Path | None  # the file, for SQLite
    explicit: bool  # named by --db or HARNESS_DB (a missing file is then an error for readers)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None or self.url.startswith("sqlite")


class StoreOffError(HarnessError):
    """HARNESS_DB switches the store off."""


def default_path() -> Path:
    from harness.gateway.cache import default_cache_dir

    return default_cache_dir() / DEFAULT_FILE


def store_off() -> bool:
    return os.environ.get(ENV, "").strip().lower() in OFF


def locate(db: str | None = None) -> StoreLocation:
    """The store named by `db` (a --db option), or by the environment, or the default file."""
    value = (db or "").strip()
    explicit = bool(value)
    if not value:
        env = os.environ.get(ENV, "").strip()
        if env.lower() in OFF:
            raise StoreOffError(f"the run store is switched off ({ENV}={env}); unset it or pass --db")
        value, explicit = env, bool(env)
    if not value:
        return _sqlite(default_path(), explicit=False)
    if "://" not in value:
        return _sqlite(Path(value).expanduser(), explicit=explicit)
    return _url(value, explicit)


def _sqlite(path: Path, *, explicit: bool) -> StoreLocation:
    path = path.resolve()
    return StoreLocation(url=f"sqlite:///{path}", shown=str(path), sqlite_path=path, explicit=explicit)


def _url(value: str, explicit: bool) -> StoreLocation:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError as error:
        raise HarnessError(f"not a database URL: {error}", where=ENV if not explicit else "--db") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the driver the `postgres` extra installs
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise HarnessError("the run store needs a SQLite file, not an in-memory database", where=value)
        return _sqlite(Path(url.database), explicit=explicit)
    if url.get_backend_name() != "postgresql":
        raise HarnessError(
            f"unsupported database {url.get_backend_name()!r}: the run store works with SQLite and PostgreSQL"
        )
    return StoreLocation(
        url=url.render_as_string(hide_password=False),
        shown=url.render_as_string(hide_password=True),
        sqlite_path=None,
        explicit=True,
    )
