"""On-disk response cache keyed by the full request, so a re-run costs nothing.

SQLite in WAL mode: safe against a kill mid-write, and shared by every run on the machine.
New replies are written in batches (one transaction per `BATCH` replies or `BATCH_S` seconds,
and on `flush`/`close`, at the end of every run and at exit): a transaction per reply costs more
CPU than the rest of a scripted call. A kill loses at most the replies of the last second.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from harness.gateway.request import CACHE_KEY_VERSION, ModelReply


def default_cache_dir() -> Path:
    if env := os.environ.get("HARNESS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "harness"


BATCH = 256
BATCH_S = 1.0
_open: "weakref.WeakSet[ResponseCache]" = weakref.WeakSet()


def flush_all() -> None:
    """Write the pending replies of every open cache (end of a run, exit)."""
    for cache in list(_open):
        cache.flush()


atexit.register(flush_all)


class ResponseCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        for other in list(_open):  # what this process put is visible to a cache opened after it
            if other.path == path:
                other.flush()
        self.path = path
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[str, float]] = {}
        self._pending_since = 0.0
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created REAL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        _open.add(self)

    @classmethod
    def in_dir(cls, directory: Path) -> "ResponseCache":
        return cls(directory / "responses.sqlite")

    def get(self, key: str) -> ModelReply | None:
        text = self.get_many([key]).get(key)
        return ModelReply.model_validate_json(text) if text is not None else None

    def get_many(self, keys: list[str]) -> dict[str, str]:
        """The stored JSON of those of `keys` that are cached, in one query per 512 keys: a run
        served from the cache looks up many keys at once (harness.gateway.lookups), and a query
        per key cost more than the rest of a cache hit."""
        found: dict[str, str] = {}
        with self._lock:
            missing = []
            for key in keys:
                pending = self._pending.get(key)
                if pending:
                    found[key] = pending[0]
                else:
                    missing.append(key)
            for start in range(0, len(missing), 512):
                batch = missing[start : start + 512]
                # padded to a power of two with a repeated key: ten statement shapes at most, for
                # SQLite's statement cache (each size is a statement of its own, held for the whole run)
                size = 1 << (len(batch) - 1).bit_length()
                batch += [batch[-1]] * (size - len(batch))
                marks = ",".join("?" * size)
                found.update(self._db.execute(f"SELECT key, reply FROM replies WHERE key IN ({marks})", batch))
        return found

    def put(self, key: str, reply: ModelReply) -> None:
        blob = reply.model_dump_json()
        with self._lock:
            now = time.time()
            if not self._pending:
                self._pending_since = now
            self._pending[key] = (blob, now)
            if len(self._pending) >= BATCH or now - self._pending_since >= BATCH_S:
                self._write_pending()

    def flush(self) -> None:
        """Write the replies not yet on disk (one transaction)."""
        with self._lock:
            self._write_pending()

    def __del__(self) -> None:  # a cache dropped without close keeps what it was given
        try:
            self.flush()
        except Exception:  # noqa: BLE001, S110 - a closed database or a process shutting down
            pass

    def _write_pending(self) -> None:
        if not self._pending:
            return
        rows = [(key, blob, created) for key, (blob, created) in self._pending.items()]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR REPLACE INTO replies (key, reply, created) VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._pending.clear()

    def get_vectors(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                found.update(self._db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", batch))
        return found

    def put_vectors(self, items: dict[str, bytes]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)", items.items())

    def stats(self) -> dict[str, Any]:
        """Counts for `harness cache info`: replies (current key version or older), by model, vectors."""
        current = f"{CACHE_KEY_VERSION}:%"
        with self._lock:
            self._write_pending()
            replies, fresh, oldest, newest = self._db.execute(
                "SELECT COUNT(*), SUM(key LIKE ?), MIN(created), MAX(created) FROM replies", (current,)
            ).fetchone()
            by_model = self._db.execute(
                "SELECT json_extract(reply, '$.model') AS m, COUNT(*) FROM replies WHERE key LIKE ? "
                "GROUP BY m ORDER BY COUNT(*) DESC",
                (current,),
            ).fetchall()
            vectors, fresh_vectors = self._db.execute(
                "SELECT COUNT(*), SUM(key LIKE ?) FROM embeddings", (current,)
            ).fetchone()
        return {
            "replies": replies,
            "replies_stale": replies - (fresh or 0),
            "oldest": oldest,
            "newest": newest,
            "by_model": {str(m): n for m, n in by_model},
            "embeddings": vectors,
            "embeddings_stale": vectors - (fresh_vectors or 0),
        }

    def clear(self, *, replies: bool = True, embeddings: bool = True, stale_only: bool = False) -> dict[str, int]:
        """Delete replies and/or embeddings (only those under older key versions with `stale_only`)."""
        where, args = ("WHERE key NOT LIKE ?", (f"{CACHE_KEY_VERSION}:%",)) if stale_only else ("", ())
        removed = {}
        with self._lock:
            self._write_pending()
            for table, wanted in (("replies", replies), ("embeddings", embeddings)):
                if wanted:
                    removed[table] = self._db.execute(f"DELETE FROM {table} {where}", args).rowcount
            self._db.execute("VACUUM")
        return removed

    def __len__(self) -> int:
        with self._lock:
            self._write_pending()
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._pending:
                self._write_pending()
            self._db.close()
        _open.discard(self)
