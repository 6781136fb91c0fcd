"""A scripted model for tests and plumbing demos: `model: scripted/<name>`.

Canned or rule-based outputs with settable latency, error rate, timeouts and malformed output.
The gateway calls it directly (`make_direct_provider`) through the same cache, semaphore, timeout
and retries as any model; it is also registered with litellm (`make_provider`) once that loads.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScriptRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str = Field(description="Regular expression searched in the last user message.")
    output: str = Field(description="Reply; \\1 or \\g<name> refer to groups of the match.")


class ScriptedModelSpec(BaseModel):
    """How a scripted model answers. Rates are probabilities per call, drawn deterministically."""

    model_config = ConfigDict(extra="forbid")

    outputs: dict[str, str] = Field(
        default_factory=dict, description="Exact last user message -> reply."
    )
    rules: list[ScriptRule] = Field(default_factory=list)
    default: str | None = Field(None, description="Reply when nothing matches; None echoes the input.")
    latency_ms: float = Field(0.0, ge=0.0)
    latency_jitter_ms: float = Field(0.0, ge=0.0)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_status: int = Field(503, description="HTTP-like status of simulated errors (429/5xx retry).")
    timeout_rate: float = Field(0.0, ge=0.0, le=1.0)
    malformed_rate: float = Field(0.0, ge=0.0, le=1.0)
    seed: int = 0


class ScriptedModelError(Exception):
    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.status_code = status_code


_SCRIPTS: dict[str, ScriptedModelSpec] = {"echo": ScriptedModelSpec()}
_LOCK = threading.Lock()


def register_script(name: str, spec: ScriptedModelSpec | dict[str, Any]) -> None:
    """Make `scripted/<name>` answer as `spec` says (replaces an earlier script of that name)."""
    with _LOCK:
        _SCRIPTS[name] = ScriptedModelSpec.model_validate(spec)


def get_script(name: str) -> ScriptedModelSpec:
    try:
        return _SCRIPTS[name]
    except KeyError:
        raise KeyError(f"no scripted model named {name!r}; known: {', '.join(sorted(_SCRIPTS))}") from None


def last_user_message(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content") or ""
            if isinstance(content, list):
                content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content)
    return ""


class ScriptPlayer:
    """Decides a reply, its delay and its fate for one call; deterministic per prompt and attempt."""

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _rng(self, name: str, spec: ScriptedModelSpec, prompt: str) -> random.Random:
        key = hashlib.sha256(f"{name}\0{spec.seed}\0{prompt}".encode()).hexdigest()
        with self._lock:
            nth = self._calls.get(key, 0)
            self._calls[key] = nth + 1
        return random.Random(f"{key}:{nth}")

    def reply_text(self, spec: ScriptedModelSpec, prompt: str) -> str:
        if prompt in spec.outputs:
            return spec.outputs[prompt]
        for rule in spec.rules:
            found = re.search(rule.match, prompt, flags=re.S)
            if found:
                return found.expand(rule.output)
        return prompt if spec.default is None else spec.default

    async def play(self, name: str, messages: list[dict[str, Any]]) -> tuple[str, int, int]:
        spec = get_script(name)
        prompt = last_user_message(messages)
        if _draws_nothing(spec):  # every roll would lose: no seeding, no per-prompt counter kept
            roll_error = roll_timeout = roll_malformed = 1.0
            delay = spec.latency_ms
        else:
            rng = self._rng(name, spec, prompt)
            roll_error, roll_timeout, roll_malformed = rng.random(), rng.random(), rng.random()
            delay = spec.latency_ms + rng.uniform(-1, 1) * spec.latency_jitter_ms
        if roll_timeout < spec.timeout_rate:
            await asyncio.sleep(3600)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if roll_error < spec.error_rate:
            raise ScriptedModelError(f"scripted/{name}: simulated error {spec.error_status}", spec.error_status)
        text = self.reply_text(spec, prompt)
        if roll_malformed < spec.malformed_rate:
            text = text[: max(1, len(text) // 2)] + ' {"unterminated": "'
        tokens_in = sum(len(str(m.get("content") or "").split()) for m in messages)
        return text, tokens_in, len(text.split())


class ScriptedProvider:
    """The gateway's direct provider for `scripted/<name>` (no litellm involved)."""

    def __init__(self) -> None:
        self.player = ScriptPlayer()

    async def complete(self, model: str, messages: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from harness.gateway.providers import Completion

        name = model.split("/", 1)[-1]
        text, tokens_in, tokens_out = await self.player.play(name, messages)
        return Completion(text, f"scripted/{name}", tokens_in, tokens_out)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        raise RuntimeError(f"{model}: scripted models do not embed")


_provider: ScriptedProvider | None = None


def _draws_nothing(spec: ScriptedModelSpec) -> bool:
    """A script whose every call is the same: no jitter, errors, timeouts or malformed replies."""
    return not (spec.latency_jitter_ms or spec.error_rate or spec.timeout_rate or spec.malformed_rate)


def make_direct_provider() -> ScriptedProvider:
    """One provider (and so one call counter) per process, shared with the litellm handler."""
    global _provider
    with _LOCK:
        if _provider is None:
            _provider = ScriptedProvider()
        return _provider


def make_provider() -> Any:
    """Build the litellm custom provider; imported only once litellm itself is loaded."""
    import litellm

    player = make_direct_provider().player

    class ScriptedLLM(litellm.CustomLLM):
        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            model = kwargs["model"].split("/", 1)[-1]
            text, tokens_in, tokens_out = await player.play(model, kwargs["messages"])
            response = kwargs.get("model_response") or litellm.ModelResponse()
            response.choices[0].message.content = text
            response.choices[0].finish_reason = "stop"
            response.model = f"scripted/{model}"
            response.usage = litellm.Usage(
                prompt_tokens=tokens_in, completion_tokens=tokens_out, total_tokens=tokens_in + tokens_out
            )
            return response

        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return asyncio.run(self.acompletion(*args, **kwargs))

    return ScriptedLLM()
