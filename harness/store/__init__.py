"""The run store: an index of run directories in a database, for `harness runs` and `harness view`.

The run directory stays the source of truth; the store keeps what lists, filters, trends and
comparisons need to be fast (each run's header, summary rows, per-sample scores and tags, not
the texts) and can be rebuilt from the directories at any time (`harness runs add DIR...`).
SQLite by default, PostgreSQL when `HARNESS_DB` names a server: one SQLAlchemy Core layer.

- `location`: which database (`--db`, `HARNESS_DB`, the default file).
- `schema`: the tables (see docs/store.md).
- `database`: `RunStore`, the connection, schema checks and error mapping.
- `records`: a run directory (through `RunView`) as the rows the store keeps.
- `write`: adding, updating and forgetting runs; registering a finished run.
- `read`: runs, summaries, systems, metrics and trends.
- `where` / `samples`: the sample filter language and its queries.

Light on import (nothing from SQLAlchemy here): `harness --help` imports the CLI modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.store.database import RunStore, StoreError

__all__ = ["RunStore", "StoreError", "mark_registered", "register_finished"]


# runs the report follower added to the store while they were written (see `mark_registered`)
_registered_while_written: set[str] = set()


def mark_registered(path: object) -> None:
    """The run at `path` was added to the store as it was written (harness.report.follower):
    `register_finished` then has nothing left to do (and this process need not load SQLAlchemy)."""
    from pathlib import Path

    _registered_while_written.add(str(Path(str(path)).resolve()))


def register_finished(path: object) -> None:
    """Add a run that just finished to the default store; never raises (see `write`)."""
    from pathlib import Path

    try:
        key = str(Path(str(path)).resolve())
    except OSError:
        key = None
    if key in _registered_while_written:
        _registered_while_written.discard(key)
        return
    from harness.store.write import register_finished as register

    register(path)


def __getattr__(name: str) -> object:
    if name in ("RunStore", "StoreError"):
        from harness.store import database

        return getattr(database, name)
    raise AttributeError(name)
