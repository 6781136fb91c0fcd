"""Which failures are worth another try, and how long to wait before it."""

from __future__ import annotations

import asyncio
import random

from pydantic import BaseModel, ConfigDict, Field

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
}


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(4, ge=1, le=20)
    initial_delay_s: float = Field(0.5, ge=0.0)
    max_delay_s: float = Field(20.0, ge=0.0)

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
    from harness.secrets import scrub

    text = scrub(str(error)).split("Traceback (most recent call last)", 1)[0].strip() or "no message"
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{type(error).__name__}: {text}"
