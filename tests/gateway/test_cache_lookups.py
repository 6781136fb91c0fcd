"""Cache lookups gathered per turn of the event loop (harness.gateway.lookups): one query for
every key asked for together, a reply object per caller, and a failure or a cancellation that
reaches only those it concerns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.gateway.cache import ResponseCache
from harness.gateway.lookups import LookupBatcher
from harness.gateway.request import ModelReply


class CountingCache:
    def __init__(self, inner: ResponseCache):
        self.inner = inner
        self.queries: list[list[str]] = []

    def get_many(self, keys: list[str]) -> dict[str, str]:
        self.queries.append(keys)
        return self.inner.get_many(keys)


def test_keys_asked_for_together_are_one_query_and_each_caller_gets_its_own_reply(tmp_path: Path) -> None:
    cache = ResponseCache.in_dir(tmp_path)
    for i in range(3):
        cache.put(f"k{i}", ModelReply(text=f"answer {i}", model="scripted/m"))
    cache.flush()
    counting = CountingCache(cache)
    batcher = LookupBatcher(counting)

    async def ask_all() -> list[ModelReply | None]:
        return list(await asyncio.gather(*(batcher.get(key) for key in ["k0", "k1", "k1", "missing", "k2"])))

    got = asyncio.run(ask_all())
    assert counting.queries == [["k0", "k1", "missing", "k2"]]  # once each, in one query
    assert [r.text if r else None for r in got] == ["answer 0", "answer 1", "answer 1", None, "answer 2"]
    assert got[1] is not got[2]  # a caller may change its reply (the gateway marks it cached)


def test_a_later_turn_is_another_query_and_pending_replies_are_found(tmp_path: Path) -> None:
    cache = ResponseCache.in_dir(tmp_path)
    cache.put("pending", ModelReply(text="not yet on disk", model="scripted/m"))
    counting = CountingCache(cache)
    batcher = LookupBatcher(counting)

    async def one_after_the_other() -> list[str | None]:
        first = await batcher.get("pending")
        second = await batcher.get("absent")
        return [first.text if first else None, second.text if second else None]

    assert asyncio.run(one_after_the_other()) == ["not yet on disk", None]
    assert counting.queries == [["pending"], ["absent"]]


def test_a_failing_lookup_fails_every_caller_and_a_cancelled_one_cancels_no_other(tmp_path: Path) -> None:
    class Broken:
        def get_many(self, keys: list[str]) -> dict[str, str]:
            raise RuntimeError("database disk image is malformed")

    batcher = LookupBatcher(Broken())

    async def both() -> list[object]:
        return await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)

    assert [str(e) for e in asyncio.run(both())] == ["database disk image is malformed"] * 2

    cache = ResponseCache.in_dir(tmp_path)
    cache.put("k", ModelReply(text="kept", model="scripted/m"))
    batcher = LookupBatcher(cache)

    async def one_cancelled() -> str:
        doomed = asyncio.ensure_future(batcher.get("k"))
        kept = asyncio.ensure_future(batcher.get("k"))
        await asyncio.sleep(0)  # both are waiting for the lookup
        doomed.cancel()
        reply = await kept
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return reply.text if reply else "none"

    assert asyncio.run(one_cancelled()) == "kept"


def test_get_many_finds_exactly_the_cached_keys_whatever_their_number(tmp_path: Path) -> None:
    """Queries are padded to a power of two keys (few statement shapes for SQLite to keep)."""
    cache = ResponseCache.in_dir(tmp_path)
    for i in range(0, 700, 2):
        cache.put(f"k{i}", ModelReply(text=str(i), model="scripted/m"))
    cache.flush()
    for n in (1, 2, 3, 8, 9, 511, 512, 513, 700):
        keys = [f"k{i}" for i in range(n)]
        found = cache.get_many(keys)
        assert sorted(found) == sorted(f"k{i}" for i in range(0, n, 2))
        assert all(ModelReply.model_validate_json(found[k]).text == k[1:] for k in found)
