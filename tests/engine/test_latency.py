"""A sample's latency is the system's own time: measured from when its work starts, not when it
was queued; waits for a concurrency slot are `queue_s`, apart; a model call's latency runs from its
first attempt to its final answer, backoff included, with `attempts` recorded."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import pytest

from harness.data.datasets import load_dataset
from harness.gateway import Gateway
from harness.engine.runner import respond_safely
from harness.suite.loader import parse_suite
from harness.systems import SystemContext, load_system_kinds
from harness.testing.fake_openai import FakeOpenAI, Reply, chat_completion
from harness.types import Example, Response, Timings


def build(tmp_path: Path, system: dict[str, Any], name: str = "s", **suite_extra: Any) -> Any:
    rows = [{"id": "x", "input": "question", "reference": "a"}]
    raw = {"name": "t", "dataset": {"inline": rows}, "systems": {name: system}, **suite_extra}
    suite = parse_suite(raw, base_dir=tmp_path)
    data = load_dataset(suite)
    s = suite.settings
    gateway = Gateway(timeout_s=s.timeout_s, retry=s.retry, concurrency=s.concurrency, concurrency_per_provider=s.concurrency_per_provider)
    context = SystemContext(name=name, suite=suite, gateway=gateway, train=data.train, test=data.test, cache_dir=tmp_path)
    config = suite.systems[name]
    return load_system_kinds().get(config.kind).factory(config, context)


def example(id_: str, text: str = "question") -> Example:
    return Example(id=id_, input=text, reference="a")


SLOW_OR_FAST = (
    "import time\n"
    "def answer(example):\n"
    "    if example.id.startswith('slow'):\n"
    "        time.sleep(0.3)\n"
    "    return 'ok'\n"
)


def test_an_instant_function_next_to_slow_ones_measures_about_zero(tmp_path: Path) -> None:
    (tmp_path / "slow_or_fast.py").write_text(SLOW_OR_FAST)
    system = build(tmp_path, {"kind": "custom", "function": "slow_or_fast:answer"}, settings={"concurrency": 2})
    ids = [f"slow{i}" for i in range(8)] + [f"fast{i}" for i in range(4)]

    async def go() -> list[Response]:
        return await asyncio.gather(*(respond_safely(system, example(i)) for i in ids))

    responses = dict(zip(ids, asyncio.run(go())))
    fast = [responses[i] for i in ids if i.startswith("fast")]
    slow = [responses[i] for i in ids if i.startswith("slow")]
    assert all(r.error is None for r in responses.values())
    assert all(r.timings.total_s < 0.05 for r in fast), [r.timings.total_s for r in fast]
    assert all(0.29 <= r.timings.total_s < 0.45 for r in slow), [r.timings.total_s for r in slow]
    # two threads for twelve calls: the wait for a thread is queue time, recorded apart
    assert all(r.timings.queue_s is not None for r in responses.values())
    assert max(r.timings.queue_s for r in fast) > 0.5


def test_a_slow_system_does_not_starve_another(tmp_path: Path) -> None:
    (tmp_path / "slow_or_fast2.py").write_text(SLOW_OR_FAST)
    slow = build(tmp_path, {"kind": "custom", "function": "slow_or_fast2:answer"}, name="slow", settings={"concurrency": 2})
    fast = build(tmp_path, {"kind": "custom", "function": "slow_or_fast2:answer"}, name="fast", settings={"concurrency": 2})

    async def go() -> list[Response]:
        busy = [respond_safely(slow, example(f"slow{i}")) for i in range(6)]
        quick = [respond_safely(fast, example(f"fast{i}")) for i in range(4)]
        return (await asyncio.gather(*busy, *quick))[6:]

    for response in asyncio.run(go()):
        assert response.timings.total_s < 0.05 and response.timings.queue_s < 0.1, response.timings


def test_a_one_second_sleep_measures_one_second_on_a_busy_event_loop(tmp_path: Path) -> None:
    (tmp_path / "sleeps.py").write_text("import time\ndef answer(example):\n    time.sleep(1.0)\n    return 'ok'\n")
    system = build(tmp_path, {"kind": "custom", "function": "sleeps:answer"})

    async def block_the_loop() -> None:
        await asyncio.sleep(0.8)
        time.sleep(0.6)  # noqa: ASYNC251 - on purpose: the loop cannot see the function finish until 1.4 s

    async def go() -> Response:
        response, _ = await asyncio.gather(respond_safely(system, example("x")), block_the_loop())
        return response

    response = asyncio.run(go())
    assert 0.99 <= response.timings.total_s < 1.15, response.timings


def fail_first(delay_fail: float, delay_ok: float) -> Any:
    """The first request for each prompt fails with 503 after `delay_fail` s; the next succeeds."""
    seen: dict[str, int] = {}

    def behave(request: Any, n: int) -> Reply:
        body = request.body or {}
        key = request.prompt if "messages" in body else str(body.get("input"))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            return Reply(status=503, body={"error": {"message": "busy, try again"}}, delay_s=delay_fail)
        if "messages" not in body:
            return Reply(body={"answer": "fine"}, delay_s=delay_ok)
        return Reply(body=chat_completion("fine"), delay_s=delay_ok)

    return behave


RETRY = {"retry": {"max_attempts": 3, "initial_delay_s": 0.2, "max_delay_s": 0.2}}


def test_a_model_calls_latency_counts_every_attempt_and_the_backoff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(fail_first(0.2, 0.1)) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        system = build(tmp_path, {"kind": "prompt", "model": "openai/fake-model"}, settings=RETRY)
        started = time.perf_counter()
        response = asyncio.run(respond_safely(system, example("x")))
        wall = time.perf_counter() - started
        assert len(server.chat_requests()) == 2
    assert response.error is None and response.text == "fine"
    assert response.attempts == 2
    # 0.2 s failing + backoff (up to 0.2 s) + 0.1 s answering; not just the last attempt's 0.1 s
    assert 0.3 <= response.timings.total_s <= wall, (response.timings, wall)
    assert response.timings.generation_s == response.timings.total_s


def test_an_endpoints_latency_counts_every_attempt(tmp_path: Path) -> None:
    with FakeOpenAI(fail_first(0.2, 0.1)) as server:
        system = build(tmp_path, {"kind": "custom", "endpoint": {"url": server.url + "/chat/completions"}}, settings=RETRY)
        started = time.perf_counter()
        response = asyncio.run(respond_safely(system, example("x")))
        wall = time.perf_counter() - started
    assert response.error is None and response.text == "fine" and response.attempts == 2
    assert 0.3 <= response.timings.total_s <= wall, (response.timings, wall)


def test_waiting_for_the_providers_slot_is_queue_time_not_latency(tmp_path: Path) -> None:
    from harness.gateway.scripted import register_script

    register_script("one_at_a_time", {"latency_ms": 200, "default": "ok"})
    system = build(tmp_path, {"kind": "prompt", "model": "scripted/one_at_a_time"}, settings={"concurrency": 1})

    async def go() -> list[Response]:
        return await asyncio.gather(*(respond_safely(system, example(f"x{i}", f"q{i}")) for i in range(3)))

    gc.collect()
    gc.disable()  # a full collection of the whole test session's heap would land in the timings
    try:
        responses = asyncio.run(go())
    finally:
        gc.enable()
    assert all(0.19 <= r.timings.total_s < 0.3 for r in responses), [r.timings for r in responses]
    assert all(r.attempts == 1 for r in responses)
    queued = sorted(r.timings.queue_s for r in responses)
    assert queued[0] < 0.05 and 0.15 < queued[1] < 0.3 and 0.35 < queued[2] < 0.55, queued


def test_a_failed_sample_records_its_own_time_and_attempts(tmp_path: Path) -> None:
    from harness.gateway.scripted import register_script

    register_script("always_503", {"error_rate": 1.0, "latency_ms": 100})
    system = build(tmp_path, {"kind": "prompt", "model": "scripted/always_503"},
                   settings={"retry": {"max_attempts": 2, "initial_delay_s": 0.0}})
    response = asyncio.run(respond_safely(system, example("x")))
    assert response.error is not None and "after 2 attempts" in response.error
    assert response.attempts == 2 and 0.2 <= response.timings.total_s < 0.5


def test_runs_written_before_these_fields_still_load() -> None:
    old = {"text": "a", "timings": {"total_s": 0.5, "retrieval_s": None, "generation_s": 0.5}, "metadata": {}}
    response = Response.model_validate(old)
    assert response.timings.queue_s is None and response.attempts is None
    assert Timings().queue_s is None


def test_a_stage_reports_its_own_time_without_slot_waits() -> None:
    """A RAG retrieval stage waiting for the embedder's slot: the wait is queue time, not retrieval."""
    from harness.runtime.timing import own_time, sample_clock, slot

    async def go() -> tuple[float, float]:
        embedder = asyncio.Semaphore(1)

        async def busy() -> None:
            async with slot(embedder):
                await asyncio.sleep(0.2)

        with sample_clock() as clock:
            other = asyncio.create_task(busy())
            await asyncio.sleep(0)
            with own_time() as watch:
                async with slot(embedder):
                    await asyncio.sleep(0.1)
            await other
        return clock.queue_s, watch.seconds

    queued, retrieval = asyncio.run(go())
    assert 0.15 < queued < 0.3 and 0.09 <= retrieval < 0.15, (queued, retrieval)


def test_the_report_shows_latency_percentiles_and_how_many_samples_retried(tmp_path: Path) -> None:
    import json

    from tests.report.test_report_data import make_run
    from tests.report.test_report_tables import table

    from harness.report.data import RunData
    from harness.report.html import render_html
    from harness.report.latency import percentile
    from harness.report.tables import render_markdown

    run = make_run(tmp_path / "run")
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for n, row in enumerate(r for r in rows if r["system"] == "plain"):
        row["response"]["timings"]["total_s"] = [0.1, 0.2, 0.4, 2.0][n]
        row["response"]["attempts"] = [1, 3, 1, 2][n]
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = RunData.load(run)
    systems = table(render_markdown(data), "## Systems")
    p50, p95 = percentile([0.1, 0.2, 0.4, 2.0], 50), percentile([0.1, 0.2, 0.4, 2.0], 95)
    assert (round(p50, 6), round(p95, 6)) == (0.3, 1.76)  # as numpy.percentile gives
    assert systems["plain"]["latency p50 / p95 (s)"] == "0.3 / 1.76"
    assert systems["plain"]["retried"] == "2 (50.0%)"
    assert systems["rag"]["retried"] == "n/a"  # no attempts recorded
    assert "<th>latency p50 / p95 (s)</th>" in render_html(data, []) and "2 (50.0%)" in render_html(data, [])


def test_the_summary_does_not_depend_on_the_order_samples_finished() -> None:
    """Concurrency and resumes change the order; the summary of the same samples must not change."""
    import random

    from harness.run import RunTally
    from harness.run.summary import to_csv

    values = [float(i % 3 == 0) for i in range(200)] + [i / 7 for i in range(50)]
    tables = []
    for seed in (1, 2):
        order = values[:]
        random.Random(seed).shuffle(order)
        tally = RunTally()
        for value in order:
            tally.add("s", False, {"m": {"status": "ok", "value": value}})
        tables.append(to_csv(tally.summary(samples=1000, confidence=0.95, seed=0)))
    assert tables[0] == tables[1]
