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
        """Everything that can change the output, hashed; the same request is answered from disk."""
        blob = json.dumps(
            {
                "model": self.model,
                "messages": self.messages,
                "params": self.params.model_dump(),
                "response_schema": self.response_schema,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


class ModelReply(BaseModel):
    text: str
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = 0.0
    model: str
    latency_s: float = 0.0
    attempts: int = 1
    cached: bool = False
