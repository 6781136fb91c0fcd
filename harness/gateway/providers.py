"""In-process providers (`scripted/...`, `local/...`) and loading litellm once, with them registered.

The gateway calls an in-process provider directly (`direct_provider`), without litellm: importing
litellm is slow, and its per-call logging and pricing cost CPU on every call, neither of which
a scripted or local model needs. litellm is imported only for calls that go through it (hosted
models); when it is, the same providers are registered with it (`IN_PROCESS_PROVIDERS`), so
`litellm.completion(model="local/...")` works for anyone.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any, Protocol

# provider prefix -> "module:function" returning a litellm.CustomLLM instance (imported lazily)
IN_PROCESS_PROVIDERS: dict[str, str] = {
    "scripted": "harness.gateway.scripted:make_provider",
    "local": "harness.local.provider:make_provider",
}
# provider prefix -> "module:function" returning a `DirectProvider` (no litellm import)
DIRECT_PROVIDERS: dict[str, str] = {
    "scripted": "harness.gateway.scripted:make_direct_provider",
    "local": "harness.local.provider:make_direct_provider",
}

# What an in-process provider declares of itself, as "module:attribute", so the gateway imports
# no provider: what decides its output (hashed into the cache key) and how many calls may wait
# for it at once (the local model batches waiting requests itself: harness.local.scheduler).
FINGERPRINTS: dict[str, str] = {"local": "harness.local.fingerprint:fingerprint"}
DEFAULT_SLOTS: dict[str, str] = {"local": "harness.local.catalog:LOCAL_BATCH"}


def provider_declaration(table: dict[str, str], prefix: str) -> Any:
    """The attribute `table` names for `prefix` (imported on first use), or None."""
    if (target := table.get(prefix)) is None:
        return None
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


_lock = threading.Lock()
_litellm: Any = None
_handlers: dict[str, Any] = {}
_direct: dict[str, Any] = {}


class DirectProvider(Protocol):
    """What the gateway calls for an in-process model: no litellm objects in or out."""

    async def complete(self, model: str, messages: list[dict[str, Any]], options: dict[str, Any]) -> "Completion": ...

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]: ...


class _Message:
    __slots__ = ("content",)
    refusal = None
    tool_calls = None

    def __init__(self, content: str | None):
        self.content = content


class _Choice:
    __slots__ = ("message", "finish_reason")

    def __init__(self, content: str | None, finish_reason: str | None):
        self.message = _Message(content)
        self.finish_reason = finish_reason


class _Usage:
    __slots__ = ("prompt_tokens", "completion_tokens")

    def __init__(self, prompt_tokens: int, completion_tokens: int):
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class Completion:
    """A chat completion from an in-process provider, shaped like the parts of a litellm
    ModelResponse the gateway reads (`choices[0].message.content`, `finish_reason`, `usage`,
    `model`), so one reader (`gateway.reply_text`) serves both paths."""

    __slots__ = ("choices", "usage", "model")
    error = None
    _hidden_params: dict[str, Any] = {}

    def __init__(self, text: str | None, model: str, prompt_tokens: int = 0, completion_tokens: int = 0,
                 finish_reason: str | None = "stop"):
        self.choices = [_Choice(text, finish_reason)]
        self.usage = _Usage(prompt_tokens, completion_tokens)
        self.model = model


def load_litellm() -> Any:
    """Import litellm (seconds) the first time a call needs it, never at start-up."""
    global _litellm
    with _lock:
        if _litellm is not None:
            return _litellm
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "ERROR")
        from harness.secrets.scrub import install_log_scrubber

        install_log_scrubber()  # litellm and httpx log requests and error bodies that may hold keys
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        handlers = []
        for prefix, target in IN_PROCESS_PROVIDERS.items():
            handler = _make_handler(prefix, target, litellm)
            _handlers[prefix] = handler
            handlers.append({"provider": prefix, "custom_handler": handler})
        litellm.custom_provider_map = [
            h for h in litellm.custom_provider_map if h["provider"] not in IN_PROCESS_PROVIDERS
        ] + handlers
        from litellm.utils import custom_llm_setup

        custom_llm_setup()
        _litellm = litellm
        return litellm


async def load_litellm_off_loop() -> Any:
    """`load_litellm()`, its first import run in a worker thread: the event loop times every
    sample in flight and must not stop for seconds."""
    if _litellm is not None:
        return _litellm
    from harness.runtime.offloop import once_off_loop

    return await once_off_loop("litellm", load_litellm)


def _make_handler(prefix: str, target: str, litellm: Any) -> Any:
    module, func = target.split(":")
    try:
        return getattr(importlib.import_module(module), func)()
    except ImportError as error:
        reason = f"the {prefix}/ models are unavailable ({error})"

        class Unavailable(litellm.CustomLLM):
            async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError(reason)

            async def aembedding(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError(reason)

        return Unavailable()


class _UnavailableProvider:
    def __init__(self, reason: str):
        self.reason = reason

    async def complete(self, model: str, messages: list[dict[str, Any]], options: dict[str, Any]) -> Completion:
        raise RuntimeError(self.reason)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        raise RuntimeError(self.reason)


def direct_provider(model: str) -> DirectProvider:
    """The in-process provider behind `model` (`scripted/...`, `local/...`), made once; no litellm."""
    prefix = model.split("/", 1)[0]
    provider = _direct.get(prefix)
    if provider is None:
        with _lock:
            provider = _direct.get(prefix)
            if provider is None:
                module, func = DIRECT_PROVIDERS[prefix].split(":")
                try:
                    provider = getattr(importlib.import_module(module), func)()
                except ImportError as error:
                    provider = _UnavailableProvider(f"the {prefix}/ models are unavailable ({error})")
                _direct[prefix] = provider
    return provider


def in_process_handler(model: str) -> Any:
    """The litellm handler registered for an in-process prefix (loads litellm)."""
    load_litellm()
    return _handlers[model.split("/", 1)[0]]


def is_in_process(model: str) -> bool:
    return model.split("/", 1)[0] in IN_PROCESS_PROVIDERS
