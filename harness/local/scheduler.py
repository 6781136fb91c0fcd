"""The queue in front of the batch engine: one thread decodes, callers wait on their sequence.

Continuous batching: a sequence that arrives while others are being decoded takes a free slot at
once (no waiting window needed): its prompt is decoded on its own, one prompt chunk per step,
and it then joins the others' one-token-per-sequence steps; a finished one frees its slot at
once. Grammar-constrained and sampled (temperature > 0) requests batch like the rest, each with
its own sampler. A batch
runs one LoRA adapter; sequences for another adapter wait until the batch drains. To keep one
busy adapter from starving the rest, no more sequences join once a sequence for another adapter
has waited `switch_after_s`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from harness.local.catalog import LocalModelError
from harness.local.engine import Sequence

SWITCH_AFTER_S = 1.0


class DecodeScheduler:
    def __init__(self, engine: Any, *, switch_after_s: float = SWITCH_AFTER_S):
        self.engine = engine
        self.switch_after_s = switch_after_s
        self._waiting: deque[Sequence] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._broken: BaseException | None = None
        self.steps = 0  # decode calls made, and sequences decoded in them (for benchmarks)
        self.sequence_steps = 0
        self._thread = threading.Thread(target=self._run, name="harness-local-decode", daemon=True)
        self._thread.start()

    def submit(self, seq: Sequence) -> None:
        with self._cond:
            if self._broken is not None:
                raise LocalModelError(f"the local model stopped after an error: {self._broken}")
            if self._closed:
                raise LocalModelError("the local model was closed")
            seq.queued_at = time.monotonic()
            self._waiting.append(seq)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    # ----- the decode thread ---------------------------------------------------------------------
    def _run(self) -> None:
        active: list[Sequence] = []
        try:
            while True:
                with self._cond:
                    while not self._closed and not self._waiting and not active:
                        self._cond.wait()
                    if self._closed:
                        break
                    admitted = self._take(len(active))
                for seq in admitted:
                    self._start(seq, active)
                for seq in [s for s in active if s.is_cancelled()]:  # e.g. the caller timed out
                    self.engine.release(seq)
                    active.remove(seq)
                if not active:
                    continue
                try:
                    finished = self.engine.step(active)
                except LocalModelError as error:
                    for seq in active:
                        self._finish(seq, error)
                    active.clear()
                    continue
                self.steps += 1
                self.sequence_steps += len(active)
                for seq in finished:
                    active.remove(seq)
                    self._finish(seq, None)
        except BaseException as error:  # noqa: BLE001 - a bug here must not leave callers waiting forever
            with self._cond:
                self._broken = error
            for seq in active:
                self._finish(seq, error)
            active.clear()
        with self._cond:
            leftovers = list(self._waiting)
            self._waiting.clear()
        reason = self._broken or LocalModelError("the local model was closed")
        for seq in leftovers + active:
            self._finish(seq, reason)
        self.engine.close()

    def _take(self, n_active: int) -> list[Sequence]:
        """Under the lock: the waiting sequences that join the batch now (same adapter as the batch)."""
        while self._waiting and self._waiting[0].is_cancelled():
            self._waiting.popleft()
        if not self._waiting or n_active >= self.engine.max_batch:
            return []
        adapter = self.engine.current_adapter if n_active else self._waiting[0].adapter
        others = [s for s in self._waiting if s.adapter != adapter]
        if n_active and others and time.monotonic() - others[0].queued_at > self.switch_after_s:
            return []  # let the batch drain, then switch to the adapter that waited longest
        taken = [s for s in self._waiting if s.adapter == adapter and not s.is_cancelled()]
        taken = taken[: self.engine.max_batch - n_active]
        for seq in taken:
            self._waiting.remove(seq)
        return taken

    def _start(self, seq: Sequence, active: list[Sequence]) -> None:
        try:
            self.engine.use_adapter(seq.adapter)
            used = {s.slot for s in active}
            self.engine.start(seq, next(i for i in range(self.engine.max_batch) if i not in used))
        except LocalModelError as error:
            self.engine.release(seq)
            self._finish(seq, error)
            return
        active.append(seq)

    def _finish(self, seq: Sequence, error: BaseException | None) -> None:
        self.engine.release(seq)
        if seq.on_done is not None:
            seq.on_done(seq, error)
