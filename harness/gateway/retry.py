"""The one retry loop: which failures are worth another try, how long to wait before it, and
what a call cost in attempts and time. The gateway (model and embedding calls) and the HTTP
`custom` system both call through `call_with_retries`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from harness.runtime.timing import slot as concurrency_slot

T = TypeVar("T")

TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
TRANSIENT_NAMES = {
    "RateLimitError",
    "APIConnectionError",
    "Timeout",
    "APITimeoutError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "TimeoutError",
    "TransportError",  # httpx: connection refused or reset, read timeout, broken protocol
}


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(4, ge=1, le=20)
    # finite and at most an hour: an infinite backoff would sleep forever
    initial_delay_s: float = Field(0.5, ge=0.0, le=3600.0, allow_inf_nan=False)
    max_delay_s: float = Field(20.0, ge=0.0, le=3600.0, allow_inf_nan=False)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with full jitter, for attempt 1, 2, ..."""
        cap = min(self.max_delay_s, self.initial_delay_s * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, cap)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError, ConnectionError)):
        return True
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and status in TRANSIENT_STATUS:
        return True
    return any(cls.__name__ in TRANSIENT_NAMES for cls in type(error).__mro__)


def describe(error: BaseException) -> str:
    """One line-ish message for a sample or log: the error's type and text, scrubbed of secrets.

    Scrubbed before trimming, so a secret cut in half by the trim cannot survive as a prefix;
    a traceback some providers paste into their message is dropped.
    """
    from harness.secrets.scrub import scrub

    text = scrub(str(error)).split("Traceback (most recent call last)", 1)[0].strip() or "no message"
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{type(error).__name__}: {text}"


class CallError(Exception):
    """A call that failed for good: not worth retrying, or out of attempts. It says how many
    attempts it made and how long they took (as `Attempted` does for a call that succeeded)."""

    def __init__(self, message: str, *, attempts: int = 1, latency_s: float = 0.0):
        super().__init__(message)
        self.attempts = attempts
        self.latency_s = latency_s


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A call's answer and what it cost.

    `latency_s` runs from the first attempt's start to the final answer: every attempt and every
    backoff sleep between them, but not the time spent waiting for a concurrency slot, which is
    `queue_s` (summed over the attempts; each attempt takes a slot anew).
    """

    value: T
    attempts: int
    latency_s: float
    queue_s: float


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy,
    timeout_s: float,
    slot: asyncio.Semaphore | None = None,
    rng: random.Random | None = None,
    transient: Callable[[BaseException], bool] = is_transient,
    error_type: type[CallError] = CallError,
) -> Attempted[T]:
    """Run `attempt()` until it answers: each attempt holds a `slot` and is stopped after
    `timeout_s` (a timeout is transient); a transient failure is tried again after a jittered
    backoff, up to `policy.max_attempts`. A final failure raises `error_type` naming `what`, the
    last error and the number of attempts, chained to the last error."""
    tries, own, queued = 0, 0.0, 0.0
    while True:
        tries += 1
        limit: asyncio.Timeout | None = None
        try:
            async with concurrency_slot(slot) as waited:
                queued += waited
                started = time.perf_counter()
                # made here: asyncio.timeout fixes its deadline when created, and the wait for
                # the slot must not eat into the call's time (no extra task, unlike wait_for)
                limit = asyncio.timeout(timeout_s)
                try:
                    async with limit:
                        value = await attempt()
                finally:
                    own += time.perf_counter() - started
            return Attempted(value, tries, own, queued)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if isinstance(error, TimeoutError) and limit is not None and limit.expired():  # ours, not one the call raised
                error = TimeoutError(f"timed out: no reply within {timeout_s:g} s")
            if not transient(error) or tries >= policy.max_attempts:
                suffix = f" after {tries} attempts" if tries > 1 else ""
                raise error_type(f"{what}: {describe(error)}{suffix}", attempts=tries, latency_s=own) from error
            pause = time.perf_counter()
            await asyncio.sleep(policy.delay(tries, rng))
            own += time.perf_counter() - pause
