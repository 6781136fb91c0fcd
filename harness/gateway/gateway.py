"""The one door to every model: cache, per-provider concurrency, timeout, retries, then litellm."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.gateway.cache import ResponseCache
from harness.gateway.endpoint import endpoint_fingerprint, register_provider_keys
from harness.gateway.lookups import LookupBatcher
from harness.gateway.providers import (DEFAULT_SLOTS, direct_provider, is_in_process, load_litellm, load_litellm_off_loop,
                                       provider_declaration)
from harness.gateway.request import CACHE_KEY_VERSION, ModelReply, ModelRequest
from harness.gateway.retry import Attempted, CallError, RetryPolicy, call_with_retries, describe
from harness.runtime.offloop import import_off_loop
from harness.secrets.scrub import scrub
from harness.types import Usage

if TYPE_CHECKING:
    import numpy as np


class ModelCallError(CallError):
    """A model call that failed for good (after retries, or not worth retrying)."""


class EmptyReplyError(Exception):
    """A reply without an answer: no choices, null or empty content. Not retried, never cached."""


class Gateway:
    def __init__(
        self,
        *,
        cache: ResponseCache | None = None,
        concurrency: int = 8,
        concurrency_per_provider: dict[str, int] | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        seed: int = 0,
    ):
        self.cache = cache
        self.concurrency = concurrency
        self.concurrency_per_provider = dict(concurrency_per_provider or {})
        for provider in DEFAULT_SLOTS:  # what in-process providers declare (harness.gateway.providers)
            self.concurrency_per_provider.setdefault(provider, provider_declaration(DEFAULT_SLOTS, provider))
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._rng = random.Random(seed)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._lookups: LookupBatcher | None = None  # for `cache`, which a plan may set after construction

    def slots(self, provider: str) -> int:
        """How many calls to `provider` (a model name's prefix) may be in flight at once."""
        base = provider.removeprefix("embed:").split("/", 1)[0]
        return self.concurrency_per_provider.get(base, self.concurrency)

    def _semaphore(self, provider: str) -> asyncio.Semaphore:
        if provider not in self._semaphores:
            self._semaphores[provider] = asyncio.Semaphore(self.slots(provider))
        return self._semaphores[provider]

    async def complete(self, request: ModelRequest, *, use_cache: bool = True) -> ModelReply:
        key = request.cache_key() if self.cache is not None and use_cache else None
        if key and (hit := await self._lookup(key)) is not None:
            hit.cached, hit.queue_s = True, 0.0  # a new object, read from the cache's JSON: no copy needed
            return hit
        reply = await self._call_with_retries(request)
        if key:
            self.cache.put(key, reply)
        return reply

    async def _lookup(self, key: str) -> ModelReply | None:
        if self._lookups is None or self._lookups.cache is not self.cache:
            self._lookups = LookupBatcher(self.cache)
        return await self._lookups.get(key)

    async def _call_with_retries(self, request: ModelRequest) -> ModelReply:
        if not is_in_process(request.model):
            await load_litellm_off_loop()  # its import (seconds): not in the first call's latency, nor on the loop

        async def attempt() -> tuple[Any, str]:
            raw = await self._litellm_call(request)
            return raw, scrub(reply_text(raw, request.params.max_tokens))

        done = await call_with_retries(
            attempt, what=request.model, policy=self.retry, timeout_s=self.timeout_s,
            slot=self._semaphore(request.provider), rng=self._rng, error_type=ModelCallError,
        )  # fmt: skip
        raw, text = done.value
        return _to_reply(request, raw, text, done)

    async def _litellm_call(self, request: ModelRequest) -> Any:
        params = request.params
        options: dict[str, Any] = {"temperature": params.temperature, "max_tokens": params.max_tokens}
        if params.top_p is not None:
            options["top_p"] = params.top_p
        if params.seed is not None:
            options["seed"] = params.seed
        if params.stop:
            options["stop"] = params.stop
        if request.response_schema is not None:
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.response_schema, "strict": True},
            }
        options.update(params.extra)
        if is_in_process(request.model):
            # Our own providers, called directly: importing litellm is slow, and its per-call
            # logging and pricing would cap how many calls one event loop can make.
            return await direct_provider(request.model).complete(request.model, request.messages, options)
        litellm = load_litellm()
        return await litellm.acompletion(
            model=request.model, messages=request.messages, num_retries=0, timeout=self.timeout_s, **options
        )

    async def embed(self, model: str, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-normalised embeddings, one row per text; cached per (model, endpoint, text) like replies."""
        np = await import_off_loop("numpy")  # only embeddings need it: a run of chat calls starts without numpy
        if self.cache is not None and not is_in_process(model):
            await load_litellm_off_loop()  # the endpoint below is resolved the way litellm routes

        endpoint = json.dumps(endpoint_fingerprint(model, {}), sort_keys=True) if self.cache is not None else ""
        keys = [
            f"{CACHE_KEY_VERSION}:" + hashlib.sha256(f"{model}\0{endpoint}\0{text}".encode()).hexdigest() for text in texts
        ]
        known = self.cache.get_vectors(keys) if self.cache is not None else {}
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in known))
        fresh = await self._embed_uncached(model, missing, batch_size) if missing else {}
        if fresh and self.cache is not None:
            vectors = {k: np.asarray(fresh[t], dtype=np.float32).tobytes() for t, k in zip(texts, keys) if t in fresh}
            self.cache.put_vectors(vectors)
        rows = [
            np.asarray(fresh[t], dtype=np.float32) if t in fresh else np.frombuffer(known[k], dtype=np.float32)
            for t, k in zip(texts, keys)
        ]
        return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    async def _embed_uncached(self, model: str, texts: list[str], batch_size: int) -> dict[str, np.ndarray]:
        import numpy as np

        rows: list[list[float]] = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]

            async def attempt(batch: list[str] = batch) -> list[list[float]]:
                if is_in_process(model):
                    return await direct_provider(model).embed(model, batch)
                litellm = await load_litellm_off_loop()
                result = await litellm.aembedding(model=model, input=batch, timeout=self.timeout_s)
                return [item["embedding"] for item in result.data]

            # the slot is keyed by model: a local embedder must not queue behind the local generator
            done = await call_with_retries(
                attempt, what=model, policy=self.retry, timeout_s=self.timeout_s,
                slot=self._semaphore(f"embed:{model}"), rng=self._rng, error_type=ModelCallError,
            )  # fmt: skip
            rows.extend(done.value)
        matrix = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1.0, norms)
        return dict(zip(texts, matrix))

    def check_models(self, models: dict[str, bool] | set[str]) -> None:
        """Fail before the run starts when a provider's API key is missing, naming the variable.
        `models` may map each model to whether every call to it passes an `api_key` of its own;
        those need no key in the environment."""
        keyed = models if isinstance(models, dict) else dict.fromkeys(models, False)
        problems = []
        for model in sorted(keyed):
            if is_in_process(model):
                continue
            litellm = load_litellm()
            if keyed[model]:
                register_provider_keys(model)
                continue
            try:
                found = litellm.validate_environment(model=model)
            except Exception as error:  # noqa: BLE001
                problems.append(f"{model}: litellm cannot check it ({describe(error)})")
                continue
            if not found.get("keys_in_environment", True):
                missing = ", ".join(found.get("missing_keys") or []) or "its API key"
                problems.append(f"{model}: set the environment variable {missing}")
            register_provider_keys(model)  # the scrubber hides them, whatever the variable's name
        if problems:
            raise ConfigError("models cannot be reached", problems=problems)


def _to_reply(request: ModelRequest, raw: Any, text: str, done: Attempted[Any]) -> ModelReply:
    usage = getattr(raw, "usage", None)
    hidden = getattr(raw, "_hidden_params", {}) or {}
    cost = hidden.get("response_cost")
    if is_in_process(request.model):
        cost = 0.0
    return ModelReply(
        text=text,
        usage=Usage(
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        ),
        cost_usd=float(cost) if cost is not None else None,
        model=str(getattr(raw, "model", None) or request.model),
        latency_s=done.latency_s,
        attempts=done.attempts,
        queue_s=done.queue_s,
    )


def reply_text(raw: Any, max_tokens: int | None = None) -> str:
    """The answer in a chat completion, or EmptyReplyError saying why there is none."""
    error = getattr(raw, "error", None)
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        raise EmptyReplyError(f"the provider answered with an error body: {message}")
    choices = getattr(raw, "choices", None)
    if not choices:
        raise EmptyReplyError("the reply has no choices (an empty `choices` list)")
    choice = choices[0]
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None)
    if isinstance(content, list):  # content parts
        content = "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, str) and content.strip():
        return content
    finish = getattr(choice, "finish_reason", None)
    why = f"the reply's content is {'null' if content is None else 'empty'} (finish_reason={finish or 'none'})"
    if refusal := getattr(message, "refusal", None):
        why += f": the model refused: {refusal}"
    elif getattr(message, "tool_calls", None):
        why += ": the model called a tool instead of answering"
    elif finish == "length":
        why += f": max_tokens={max_tokens} ran out before any text" if max_tokens else ": the token limit ran out"
    elif finish == "content_filter":
        why += ": the provider's content filter withheld it"
    raise EmptyReplyError(why)
