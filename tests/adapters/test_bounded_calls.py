"""Every call a system makes is bounded by `settings.timeout_s`: sync and async Python functions,
HTTP endpoints, local generation, embeddings and judge calls. A call that runs past it becomes an
`error` sample saying so, and the run goes on and ends, even when a function never returns."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import write_suite

from harness.data.datasets import load_dataset
from harness.gateway import Gateway, ModelCallError, ModelRequest
from harness.gateway.providers import load_litellm
from harness.gateway.retry import RetryPolicy
from harness.engine.runner import respond_safely
from harness.suite.loader import parse_suite
from harness.systems import SystemContext, load_system_kinds
from harness.testing.fake_openai import FakeOpenAI, Reply
from harness.types import Example

NO_RETRY = {"max_attempts": 1}


def build(tmp_path: Path, system: dict[str, Any], **settings: Any) -> Any:
    rows = [{"id": f"x{i}", "input": f"question {i}", "reference": "a"} for i in range(3)]
    raw = {"name": "t", "dataset": {"inline": rows}, "systems": {"s": system}, "settings": settings}
    suite = parse_suite(raw, base_dir=tmp_path)
    data = load_dataset(suite)
    gateway = Gateway(timeout_s=suite.settings.timeout_s, retry=suite.settings.retry, concurrency=suite.settings.concurrency)
    context = SystemContext(name="s", suite=suite, gateway=gateway, train=data.train, test=data.test, cache_dir=tmp_path)
    config = suite.systems["s"]
    return load_system_kinds().get(config.kind).factory(config, context)


def example(n: int = 0, text: str | None = None) -> Example:
    return Example(id=f"x{n}", input=text or f"question {n}", reference="a")


def user_module(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / f"{name}.py").write_text(source)


@pytest.fixture
def release() -> Any:
    """An event the test's never-returning functions wait on, set at the end so no thread outlives the test."""
    import builtins

    event = threading.Event()
    builtins._bounded_release = event  # type: ignore[attr-defined]
    yield event
    event.set()
    del builtins._bounded_release  # type: ignore[attr-defined]


HANGING = (
    "import builtins, time\n"
    "def answer(example):\n"
    "    if example.id == 'x0':\n"
    "        builtins._bounded_release.wait()\n"
    "    return 'done ' + example.id\n"
)


def test_a_sync_function_that_never_returns_is_an_error_and_does_not_exhaust_the_pool(tmp_path: Path, release: Any) -> None:
    user_module(tmp_path, "hangs_sync", HANGING)
    system = build(tmp_path, {"kind": "custom", "function": "hangs_sync:answer"}, timeout_s=0.3, concurrency=1)

    async def go() -> list:
        stuck = await respond_safely(system, example(0))
        # the pool holds one thread (concurrency 1) and it is stuck: the next call still runs
        after = await asyncio.wait_for(respond_safely(system, example(1)), 5)
        return [stuck, after]

    started = time.perf_counter()
    stuck, after = asyncio.run(go())
    assert time.perf_counter() - started < 3
    assert stuck.error is not None and "timed out: did not return within 0.3 s" in stuck.error
    assert after.error is None and after.text == "done x1"
    assert any("1 call timed out" in w and "still running" in w for w in system.warnings), system.warnings


def test_an_async_function_that_never_returns_is_an_error(tmp_path: Path) -> None:
    user_module(tmp_path, "hangs_async", "import asyncio\nasync def answer(example):\n    await asyncio.Event().wait()\n")
    system = build(tmp_path, {"kind": "custom", "function": "hangs_async:answer"}, timeout_s=0.2)
    started = time.perf_counter()
    response = asyncio.run(asyncio.wait_for(respond_safely(system, example()), 10))
    assert time.perf_counter() - started < 3
    assert response.error is not None and "timed out: did not return within 0.2 s" in response.error


def test_an_http_endpoint_that_hangs_is_bounded_by_the_suite_timeout(tmp_path: Path) -> None:
    with FakeOpenAI(lambda request: Reply(body={"answer": "late"}, delay_s=3.0)) as server:
        system = build(tmp_path, {"kind": "custom", "endpoint": {"url": server.url + "/chat/completions"}},
                       timeout_s=0.3, retry={"max_attempts": 2, "initial_delay_s": 0.01})
        started = time.perf_counter()
        response = asyncio.run(asyncio.wait_for(respond_safely(system, example()), 20))
        elapsed = time.perf_counter() - started
    assert elapsed < 2.5, elapsed  # two attempts of 0.3 s, not the endpoint's old 60 s default
    assert response.error is not None and "timed out: no reply within 0.3 s" in response.error and "after 2 attempts" in response.error
    assert response.attempts == 2


def test_slow_local_generation_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local model decodes on its own thread; the gateway stops waiting for it at the timeout."""
    import concurrent.futures
    import threading

    from harness.local import provider

    def slow_submit(messages: Any, optional_params: Any) -> Any:
        future: concurrent.futures.Future = concurrent.futures.Future()

        def finish() -> None:
            if future.set_running_or_notify_cancel():
                future.set_exception(AssertionError("should have been abandoned"))

        threading.Timer(1.5, finish).start()
        return future

    monkeypatch.setattr(provider, "_submit", slow_submit)
    monkeypatch.setattr(provider, "_loaded", lambda: True)
    gateway = Gateway(timeout_s=0.2, retry=RetryPolicy(**NO_RETRY))
    request = ModelRequest(model="local/gemma-3-270m", messages=[{"role": "user", "content": "hi"}])

    async def go() -> float:
        load_litellm()  # its import takes seconds: not part of what is timed here
        started = time.perf_counter()
        with pytest.raises(ModelCallError, match="timed out: no reply within 0.2 s"):
            await gateway.complete(request, use_cache=False)
        return time.perf_counter() - started

    assert asyncio.run(go()) < 1.0


def test_embeddings_are_bounded_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.local import provider

    calls: list[float] = []

    def slow_embed(texts: Any) -> Any:
        calls.append(time.perf_counter())
        time.sleep(1.0)
        return [[1.0, 0.0] for _ in texts], 1

    monkeypatch.setattr(provider, "_embed", slow_embed)
    gateway = Gateway(timeout_s=0.2, retry=RetryPolicy(max_attempts=2, initial_delay_s=0.01, max_delay_s=0.01))

    async def go() -> float:
        load_litellm()  # its import takes seconds: not part of what is timed here
        started = time.perf_counter()
        with pytest.raises(ModelCallError, match=r"local/all-minilm-l6-v2: .*timed out: no reply within 0.2 s after 2 attempts"):
            await gateway.embed("local/all-minilm-l6-v2", ["a", "b"])
        return time.perf_counter() - started

    assert asyncio.run(go()) < 1.0
    assert len(calls) == 2


def test_judge_calls_are_bounded(tmp_path: Path) -> None:
    from pydantic import BaseModel

    from harness.gateway.scripted import register_script
    from harness.metrics.faithfulness.llm_judge import LLMJudge

    class Verdict(BaseModel):
        ok: bool

    register_script("judge_hangs", {"timeout_rate": 1.0})
    load_litellm()
    judge = LLMJudge(Gateway(timeout_s=0.2, retry=RetryPolicy(**NO_RETRY)), "scripted/judge_hangs")
    started = time.perf_counter()
    with pytest.raises(ModelCallError, match="timed out: no reply within 0.2 s"):
        asyncio.run(judge.structured("is it?", Verdict, []))
    assert time.perf_counter() - started < 2


def test_a_run_ends_even_when_a_function_never_returns(tmp_path: Path) -> None:
    """The whole `harness run`, process exit included: the stuck thread must not keep it alive."""
    user_module(tmp_path, "forever", "import time\ndef answer(example):\n"
                "    while example.id == 'q1':\n        time.sleep(0.05)\n    return example.reference\n")
    rows = [{"id": f"q{i}", "input": f"question {i}", "reference": str(i)} for i in range(15)]
    suite = write_suite(tmp_path, {
        "name": "forever", "dataset": {"inline": rows},
        "systems": {"mine": {"kind": "custom", "function": "forever:answer"}},
        "metrics": ["exact_match", "latency"], "settings": {"timeout_s": 1.0, "concurrency": 2},
    })
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(suite), "--out", "run", "--no-report"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ}, check=False)
    assert done.returncode == 0, done.stderr  # 1 error in 15 (7%) is within settings.max_error_rate
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"] == {"planned": 15, "done": 15, "errors": 1}
    assert any("still running" in w for w in header["warnings"]), header["warnings"]
    rows = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    failed = [r for r in rows if r["response"]["error"]]
    assert [r["example"]["id"] for r in failed] == ["q1"]
    assert "timed out: did not return within 1 s" in failed[0]["response"]["error"]


def test_a_function_that_exits_fails_its_sample_only(tmp_path: Path) -> None:
    user_module(tmp_path, "exits", "import sys\ndef answer(example):\n"
                "    if example.id == 'x0':\n        sys.exit(3)\n    return 'fine'\n")
    system = build(tmp_path, {"kind": "custom", "function": "exits:answer"}, concurrency=1)

    async def go() -> list:
        return [await respond_safely(system, example(0)), await respond_safely(system, example(1))]

    failed, after = asyncio.run(go())
    assert failed.error is not None and "the function raised SystemExit: 3" in failed.error
    assert after.error is None and after.text == "fine"
    assert system.warnings == []  # nothing timed out


def test_an_async_function_that_exits_fails_its_sample_only(tmp_path: Path) -> None:
    user_module(tmp_path, "exits_async", "import sys\nasync def answer(example):\n"
                "    if example.id == 'x0':\n        sys.exit(4)\n    return 'fine'\n")
    system = build(tmp_path, {"kind": "custom", "function": "exits_async:answer"}, concurrency=1)

    async def go() -> list:
        return [await respond_safely(system, example(0)), await respond_safely(system, example(1))]

    failed, after = asyncio.run(go())
    assert failed.error is not None and "the function raised SystemExit: 4" in failed.error
    assert after.error is None and after.text == "fine"



def test_a_functions_own_timeout_error_keeps_its_message(tmp_path: Path) -> None:
    user_module(tmp_path, "own_timeout", "async def answer(example):\n    raise TimeoutError('the database took too long')\n")
    system = build(tmp_path, {"kind": "custom", "function": "own_timeout:answer"}, timeout_s=5)
    response = asyncio.run(respond_safely(system, example()))
    assert response.error == "TimeoutError: the database took too long"


def test_the_timeout_runs_from_when_a_call_starts_not_while_it_waits_for_a_slot() -> None:
    from harness.gateway.scripted import register_script

    register_script("slow_single_lane", {"latency_ms": 200, "default": "ok"})
    gateway = Gateway(concurrency=1, timeout_s=0.3, retry=RetryPolicy(**NO_RETRY))

    async def go() -> list:
        asks = [ModelRequest(model="scripted/slow_single_lane", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(4)]
        return await asyncio.gather(*(gateway.complete(a, use_cache=False) for a in asks))

    replies = asyncio.run(go())  # the last one waits 0.6 s for its slot, then answers in 0.2 s
    assert [r.text for r in replies] == ["ok"] * 4
    assert max(r.queue_s for r in replies) > 0.5
