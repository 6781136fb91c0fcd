"""On-disk response cache keyed by the full request, so a re-run costs nothing.

SQLite in WAL mode: safe against a kill mid-write, and shared by every run on the machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from harness.gateway.request import CACHE_KEY_VERSION, ModelReply


def default_cache_dir() -> Path:
    if env := os.environ.get("HARNESS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "harness"


class ResponseCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created REAL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    @classmethod
    def in_dir(cls, directory: Path) -> "ResponseCache":
        return cls(directory / "responses.sqlite")

    def get(self, key: str) -> ModelReply | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return ModelReply.model_validate_json(row[0]) if row else None

    def put(self, key: str, reply: ModelReply) -> None:
        blob = reply.model_dump_json()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, reply, created) VALUES (?, ?, ?)",
                (key, blob, time.time()),
            )

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
            for table, wanted in (("replies", replies), ("embeddings", embeddings)):
                if wanted:
                    removed[table] = self._db.execute(f"DELETE FROM {table} {where}", args).rowcount
            self._db.execute("VACUUM")
        return removed

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
