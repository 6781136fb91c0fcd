"""The typed request/reply that crosses the model gateway."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.types import Usage


class GenerationParams(BaseModel):
    """Decoding settings a system passes to its model; `extra` goes to litellm as is."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(256, gt=0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = 0
    stop: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class ModelRequest(BaseModel):
    model: str
    messages: list[dict[str, Any]]
    params: GenerationParams = Field(default_factory=GenerationParams)
    response_schema: dict[str, Any] | None = None

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0] if "/" in self.model else "openai"

    def cache_key(self) -> str:
        """Everything that can change the output, hashed; the same request is answered from disk.

        That is the model, messages, every generation parameter, the response schema and the
        endpoint the call goes to (see `endpoint_fingerprint`). Credentials are left out: a
        rotated key still finds its replies. The version prefix retires keys of older harnesses.
        """
        from harness.gateway.endpoint import endpoint_fingerprint

        fingerprint = endpoint_fingerprint(self.model, self.params.extra)
        params = self.params.model_dump()
        params["extra"] = _key_extra(self.params.extra, hashed_lora="lora_sha256" in fingerprint)
        blob = json.dumps(
            {
                "model": self.model,
                "messages": self.messages,
                "params": params,
                "response_schema": self.response_schema,
                "endpoint": fingerprint,
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return f"{CACHE_KEY_VERSION}:{hashlib.sha256(blob.encode()).hexdigest()}"


CACHE_KEY_VERSION = "v2"
# in the endpoint fingerprint already, normalised (so a suite's api_base and the same address
# from the environment are one key)
_ENDPOINT_PARAMS = frozenset({"api_base", "base_url", "api_version"})


def _key_extra(extra: dict[str, Any], *, hashed_lora: bool) -> Any:
    """`extra` without credentials, endpoint fields, and the LoRA path when its file hash stands in."""
    from harness.secrets.names import is_secret_name

    def strip(value: Any, top: bool) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v, False)
                for k, v in value.items()
                if not is_secret_name(str(k))
                and not (top and k in _ENDPOINT_PARAMS)
                and not (hashed_lora and k == "lora_path")
            }
        if isinstance(value, list):
            return [strip(v, False) for v in value]
        return value

    return strip(extra, True)


class ModelReply(BaseModel):
    """A model's answer. `latency_s`: from the first attempt's start to the final answer, every
    attempt and backoff included, waits for the provider's concurrency slot not (`queue_s`).
    A reply served from the cache keeps the latency and attempts of the call that made it."""

    text: str
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = 0.0
    model: str
    latency_s: float = 0.0
    attempts: int = 1
    queue_s: float = 0.0
    cached: bool = False
