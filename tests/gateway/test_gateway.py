"""The gateway: scripted model behaviour, retries, timeouts, cache, concurrency, API keys."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.gateway import Gateway, ModelCallError, ModelRequest
from harness.gateway.cache import ResponseCache
from harness.gateway.retry import RetryPolicy
from harness.gateway.scripted import register_script

FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay_s=0.001, max_delay_s=0.002)


def ask(text: str, model: str = "scripted/echo") -> ModelRequest:
    return ModelRequest(model=model, messages=[{"role": "user", "content": text}])


def test_rules_canned_outputs_and_usage() -> None:
    register_script("rules", {"outputs": {"hi": "hello"}, "rules": [{"match": r"capital of (\w+)", "output": "capital=\\1"}], "default": "?"})
    gateway = Gateway()

    async def go() -> list:
        return [await gateway.complete(ask(t, "scripted/rules")) for t in ("hi", "the capital of Peru", "other")]

    replies = asyncio.run(go())
    assert [r.text for r in replies] == ["hello", "capital=Peru", "?"]
    assert replies[1].usage.input_tokens == 4 and replies[1].usage.output_tokens == 1
    assert replies[0].cost_usd == 0.0 and replies[0].model == "scripted/rules"


def test_transient_errors_are_retried_until_success() -> None:
    register_script("flaky", {"error_rate": 0.5, "default": "ok", "seed": 3})
    gateway = Gateway(retry=RetryPolicy(max_attempts=20, initial_delay_s=0.001, max_delay_s=0.002))

    async def go() -> list:
        return await asyncio.gather(*(gateway.complete(ask(f"q{i}", "scripted/flaky")) for i in range(40)))

    replies = asyncio.run(go())
    assert all(r.text == "ok" for r in replies)
    assert any(r.attempts > 1 for r in replies)  # some calls failed first and were retried


def test_final_failure_says_what_and_how_often() -> None:
    register_script("down", {"error_rate": 1.0, "error_status": 503})
    with pytest.raises(ModelCallError, match=r"scripted/down: .*simulated error 503 after 3 attempts"):
        asyncio.run(Gateway(retry=FAST_RETRY).complete(ask("x", "scripted/down")))


def test_client_errors_are_not_retried() -> None:
    register_script("bad_request", {"error_rate": 1.0, "error_status": 400})
    with pytest.raises(ModelCallError) as caught:
        asyncio.run(Gateway(retry=FAST_RETRY).complete(ask("x", "scripted/bad_request")))
    assert "after" not in str(caught.value)  # one attempt only


def test_timeouts_end_as_errors() -> None:
    register_script("hang", {"timeout_rate": 1.0})
    started = time.perf_counter()
    with pytest.raises(ModelCallError, match="no reply within 0.05 s after 3 attempts"):
        asyncio.run(Gateway(timeout_s=0.05, retry=FAST_RETRY).complete(ask("x", "scripted/hang")))
    assert time.perf_counter() - started < 5


def test_malformed_output_is_returned_as_is() -> None:
    register_script("broken", {"malformed_rate": 1.0, "default": '{"answer": "yes"}'})
    reply = asyncio.run(Gateway().complete(ask("x", "scripted/broken")))
    assert reply.text.startswith('{"answer') and reply.text.endswith('"unterminated": "')


def test_cache_serves_identical_requests(tmp_path: Path) -> None:
    register_script("slow", {"latency_ms": 50, "default": "done"})
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path))
    first = asyncio.run(gateway.complete(ask("same", "scripted/slow")))
    register_script("slow", {"error_rate": 1.0, "error_status": 400})  # a real call would now fail
    second = asyncio.run(gateway.complete(ask("same", "scripted/slow")))
    assert (first.cached, second.cached) == (False, True)
    assert second.text == "done" and second.latency_s == first.latency_s  # the original latency is kept
    register_script("slow", {"default": "done"})
    different = ModelRequest(model="scripted/slow", messages=[{"role": "user", "content": "same"}], params={"max_tokens": 5})
    assert asyncio.run(gateway.complete(different)).cached is False
    assert len(ResponseCache.in_dir(tmp_path)) == 2


def test_cache_writes_replies_in_batches_and_on_flush(tmp_path: Path) -> None:
    from harness.gateway import cache as cache_module
    from harness.gateway.request import ModelReply

    cache = ResponseCache.in_dir(tmp_path)
    other = ResponseCache.in_dir(tmp_path)  # opened before the puts: as another process sees the file
    reply = ModelReply(text="x", model="scripted/echo")
    for i in range(cache_module.BATCH - 1):
        cache.put(f"k{i}", reply)
    assert cache.get("k0") == reply  # served from the pending batch
    assert other.get("k0") is None  # not on disk yet
    cache.put("last", reply)  # the batch is full: one transaction
    assert other.get("k0") == reply and other.get("last") == reply
    cache.put("late", reply)
    cache_module.flush_all()  # what every run does at its end (and the process at exit)
    assert other.get("late") == reply


def test_concurrency_limit_per_provider() -> None:
    register_script("timed", {"latency_ms": 50, "default": "x"})
    gateway = Gateway(concurrency=4)

    async def go() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(gateway.complete(ask(f"q{i}", "scripted/timed")) for i in range(12)))
        return time.perf_counter() - started

    elapsed = asyncio.run(go())
    assert elapsed >= 0.15  # 12 calls, 4 at a time, 50 ms each: at least 3 rounds


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        Gateway().check_models({"openai/gpt-4o-mini", "scripted/echo"})
    assert "openai/gpt-4o-mini: set the environment variable OPENAI_API_KEY" in str(caught.value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    Gateway().check_models({"openai/gpt-4o-mini"})


def test_embeddings_are_cached_per_text(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    class Counting(Gateway):
        async def _embed_uncached(self, model, texts, batch_size):  # type: ignore[override]
            calls.append(list(texts))
            return {t: np.array([len(t), 1.0], dtype=np.float32) / np.hypot(len(t), 1.0) for t in texts}

    gateway = Counting(cache=ResponseCache.in_dir(tmp_path))
    first = asyncio.run(gateway.embed("m", ["a", "bb", "a"]))
    second = asyncio.run(gateway.embed("m", ["bb", "ccc"]))
    assert calls == [["a", "bb"], ["ccc"]]
    assert first.shape == (3, 2) and np.allclose(first[0], first[2]) and np.allclose(second[0], first[1])
    assert asyncio.run(gateway.embed("other-model", ["a"])).shape == (1, 2) and calls[-1] == ["a"]
