"""Loading litellm once, with our in-process providers (`scripted/...`, `local/...`) registered."""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any

# provider prefix -> "module:function" returning a litellm.CustomLLM instance (imported lazily)
IN_PROCESS_PROVIDERS: dict[str, str] = {
    "scripted": "harness.gateway.scripted:make_provider",
    "local": "harness.local.provider:make_provider",
}

_lock = threading.Lock()
_litellm: Any = None
_handlers: dict[str, Any] = {}


def load_litellm() -> Any:
    """Import litellm (about 3 s) the first time a model is needed, never at start-up."""
    global _litellm
    with _lock:
        if _litellm is not None:
            return _litellm
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "ERROR")
        from harness.secrets import install_log_scrubber

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


def in_process_handler(model: str) -> Any:
    load_litellm()
    return _handlers[model.split("/", 1)[0]]


def is_in_process(model: str) -> bool:
    return model.split("/", 1)[0] in IN_PROCESS_PROVIDERS
