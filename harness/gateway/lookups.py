"""Cache lookups gathered across the event loop's tasks: one query for all the keys asked for in
the same turn of the loop.

A run served from the cache is CPU-bound: its workers each reach a lookup in turn, and a SQLite
query per key (a read transaction, its locks, a statement) costs more than the rest of the hit.
Each caller gets its own reply object, parsed from the stored JSON.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.gateway.request import ModelReply


class LookupBatcher:
    """`await batcher.get(key)`: the cached reply or None, looked up in `cache` together with the
    other keys asked for before the loop's next turn."""

    def __init__(self, cache: Any):
        self.cache = cache
        self._waiting: list[tuple[str, asyncio.Future[str | None]]] | None = None

    async def get(self, key: str) -> ModelReply | None:
        loop = asyncio.get_running_loop()
        if self._waiting is None:
            self._waiting = []
            loop.call_soon(self._look_up)
        waiter: asyncio.Future[str | None] = loop.create_future()  # one per caller: cancelling one cancels no other
        self._waiting.append((key, waiter))
        text = await waiter
        return ModelReply.model_validate_json(text) if text is not None else None

    def _look_up(self) -> None:
        waiting, self._waiting = self._waiting or [], None
        try:
            found = self.cache.get_many(list(dict.fromkeys(key for key, _ in waiting)))
        except Exception as error:  # noqa: BLE001 - each caller meets the error, as with a lookup of its own
            for _, waiter in waiting:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for key, waiter in waiting:
            if not waiter.done():
                waiter.set_result(found.get(key))
