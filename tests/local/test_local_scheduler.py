"""The decode queue in front of the batch engine, on a stand-in engine (no model)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from harness.local.catalog import LocalModelError
from harness.local.completion_text import CompletionText
from harness.local.engine import Sequence
from harness.local.scheduler import DecodeScheduler

BASE = (None, 1.0, 0, 0)
LORA_A = ("/loras/a.gguf", 1.0, 10, 1)


class FakeEngine:
    """Emits one token per active sequence per step; records which sequences shared each step."""

    def __init__(self, max_batch: int, step_s: float = 0.002, fail_on: str | None = None):
        self.max_batch = max_batch
        self.step_s = step_s
        self.fail_on = fail_on
        self.current_adapter: tuple | None = None
        self.adapter_switches: list[tuple] = []
        self.batches: list[tuple[tuple, list[str]]] = []
        self.closed = False

    def use_adapter(self, key: tuple) -> None:
        if key != self.current_adapter:
            if key[0] and "missing" in key[0]:
                raise LocalModelError(f"could not load the LoRA adapter {key[0]}")
            self.current_adapter = key
            self.adapter_switches.append(key)

    def start(self, seq: Sequence, slot: int) -> None:
        seq.slot = slot

    def release(self, seq: Sequence) -> None:
        seq.slot = -1

    def step(self, active: list[Sequence]) -> list[Sequence]:
        time.sleep(self.step_s)
        names = [seq.name for seq in active]
        assert len({seq.slot for seq in active}) == len(active), "two sequences share a slot"
        if self.fail_on in names:
            raise LocalModelError("llama.cpp could not decode a batch")
        self.batches.append((self.current_adapter, names))
        finished = []
        for seq in active:
            seq.text.add(1, b"x")
            if seq.text.finished:
                finished.append(seq)
        return finished

    def close(self) -> None:
        self.closed = True


def request(name: str, tokens: int = 3, adapter: tuple = BASE) -> tuple[Sequence, Future]:
    future: Future = Future()

    def done(seq: Sequence, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error else future.set_result((seq.name, seq.text.decoded()))

    seq = Sequence(
        prompt_tokens=[1], text=CompletionText.create((), tokens), temperature=0.0, top_p=1.0, seed=0,
        adapter=adapter, on_done=done, is_cancelled=future.cancelled,
    )
    seq.name = name  # type: ignore[attr-defined]
    return seq, future


def submit_all(scheduler: DecodeScheduler, items: list[tuple[Sequence, Future]]) -> list[Future]:
    for seq, _ in items:
        scheduler.submit(seq)
    return [future for _, future in items]


def test_requests_waiting_together_share_decode_steps_up_to_the_batch_size() -> None:
    engine = FakeEngine(max_batch=4, step_s=0.02)
    scheduler = DecodeScheduler(engine)
    futures = submit_all(scheduler, [request(f"r{i}", tokens=3) for i in range(6)])
    results = [f.result(timeout=10) for f in futures]
    scheduler.close()
    assert results == [(f"r{i}", "xxx") for i in range(6)]
    assert max(len(names) for _, names in engine.batches) == 4
    assert len(engine.batches) < 6 * 3  # fewer decode steps than one sequence at a time
    assert engine.closed


def test_a_request_arriving_mid_batch_joins_at_the_next_step() -> None:
    engine = FakeEngine(max_batch=4, step_s=0.02)
    scheduler = DecodeScheduler(engine)
    (first,) = submit_all(scheduler, [request("long", tokens=20)])
    while not engine.batches:
        time.sleep(0.001)
    (second,) = submit_all(scheduler, [request("short", tokens=2)])
    assert second.result(timeout=10) == ("short", "xx")
    assert not first.done()  # the short one did not wait for the long one to finish
    assert any(set(names) == {"long", "short"} for _, names in engine.batches)
    first.result(timeout=10)
    scheduler.close()


def test_a_batch_holds_one_adapter_and_waiting_adapters_get_their_turn() -> None:
    engine = FakeEngine(max_batch=8, step_s=0.01)
    scheduler = DecodeScheduler(engine)
    items = [request("b1"), request("a1", adapter=LORA_A), request("b2"), request("a2", adapter=LORA_A), request("b3")]
    results = [f.result(timeout=10) for f in submit_all(scheduler, items)]
    scheduler.close()
    assert [name for name, _ in results] == ["b1", "a1", "b2", "a2", "b3"]
    assert {adapter for adapter, _ in engine.batches} == {BASE, LORA_A}
    for adapter, names in engine.batches:  # never two adapters in one decode
        assert all(name.startswith("a" if adapter == LORA_A else "b") for name in names)
    assert engine.adapter_switches == [BASE, LORA_A]  # grouped: base batch, then the LoRA batch


def test_a_long_waiting_adapter_stops_new_requests_joining_the_running_batch() -> None:
    engine = FakeEngine(max_batch=2, step_s=0.01)
    scheduler = DecodeScheduler(engine, switch_after_s=0.05)
    lora = submit_all(scheduler, [request("b0", tokens=10), request("a0", tokens=2, adapter=LORA_A)])
    stream = []
    for i in range(30):  # base requests keep arriving while the LoRA request waits
        stream += submit_all(scheduler, [request(f"b{i + 1}", tokens=2)])
        time.sleep(0.01)
        if lora[1].done():
            break
    assert lora[1].result(timeout=10) == ("a0", "xx")
    assert not all(f.done() for f in stream)  # it did not wait for the base stream to end
    for f in stream + lora:
        f.result(timeout=10)
    scheduler.close()


def test_a_decode_error_fails_that_batch_only_and_the_queue_goes_on() -> None:
    engine = FakeEngine(max_batch=2, fail_on="bad")
    scheduler = DecodeScheduler(engine)
    bad, fine = submit_all(scheduler, [request("bad"), request("fine", adapter=LORA_A)])
    with pytest.raises(LocalModelError, match="could not decode"):
        bad.result(timeout=10)
    assert fine.result(timeout=10) == ("fine", "xxx")
    scheduler.close()


def test_an_adapter_that_cannot_load_fails_its_requests_with_the_reason() -> None:
    engine = FakeEngine(max_batch=2)
    scheduler = DecodeScheduler(engine)
    broken, fine = submit_all(scheduler, [request("x", adapter=("/loras/missing.gguf", 1.0, 1, 1)), request("y")])
    with pytest.raises(LocalModelError, match="could not load the LoRA adapter /loras/missing.gguf"):
        broken.result(timeout=10)
    assert fine.result(timeout=10) == ("y", "xxx")
    scheduler.close()


def test_a_cancelled_request_leaves_the_batch_and_frees_its_slot() -> None:
    engine = FakeEngine(max_batch=1, step_s=0.01)
    scheduler = DecodeScheduler(engine)
    slow, quick = submit_all(scheduler, [request("slow", tokens=10_000), request("quick", tokens=2)])
    while not engine.batches:
        time.sleep(0.001)
    slow.cancel()  # what asyncio.wait_for's timeout does to the wrapped future
    assert quick.result(timeout=10) == ("quick", "xx")
    scheduler.close()


def test_close_fails_waiting_requests_and_refuses_new_ones() -> None:
    gate = threading.Event()

    class Stalled(FakeEngine):
        def step(self, active):
            gate.wait(5)
            return super().step(active)

    engine = Stalled(max_batch=1)
    scheduler = DecodeScheduler(engine)
    running, waiting = submit_all(scheduler, [request("running", tokens=50), request("waiting")])
    closer = threading.Thread(target=scheduler.close)
    closer.start()
    gate.set()
    closer.join(10)
    for future in (running, waiting):
        with pytest.raises(LocalModelError, match="closed"):
            future.result(timeout=10)
    with pytest.raises(LocalModelError, match="closed"):
        scheduler.submit(request("late")[0])
    assert engine.closed
