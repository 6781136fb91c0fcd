"""Turning a chat request into what a *base* (not instruction-tuned) model can continue.

Gemma 3 270M has no chat template that works: chat-style prompts give garbage, completion-style
prompts ("...Question: ...\nAnswer:") answer well. So messages become one plain-text document,
and stop strings end the answer where the next block of the document would begin.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.local.catalog import LocalModelError

# Where a base model's answer ends: a blank line or the next question of the pattern.
DEFAULT_STOPS: tuple[str, ...] = ("\n\n", "\nQuestion:")
DEFAULT_MAX_TOKENS = 256
DEFAULT_SEED = 0

_ANSWER_CUE = re.compile(r"[A-Za-z][\w ()/-]{0,40}:[ \t]*$")


def content_text(content: Any) -> str:
    """Message content as text; OpenAI-style lists of parts keep only their text parts."""
    if content is None:
        return ""
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
        return "".join(str(p.get("text", "")) for p in parts)
    return str(content)


def ends_with_answer_cue(text: str) -> bool:
    """True for text ending in a label the model should complete, such as "Answer:" or "JSON:"."""
    return bool(_ANSWER_CUE.search(text.rstrip("\n")))


def render_prompt(messages: list[dict[str, Any]]) -> str:
    """System text first, then the conversation as one document, blocks separated by a blank line.

    User text is kept as is (the suite's templates already end with "Answer:"); an assistant
    turn after a cue continues the same line, so few-shot turns read "Question: ...\nAnswer: X".
    """
    ordered = [m for m in messages if m.get("role") in ("system", "developer")]
    ordered += [m for m in messages if m.get("role") not in ("system", "developer")]
    blocks: list[str] = []
    for message in ordered:
        text = content_text(message.get("content"))
        if message.get("role") == "assistant" and blocks and ends_with_answer_cue(blocks[-1]):
            blocks[-1] = blocks[-1].rstrip() + " " + text.strip()
        elif text.strip():
            blocks.append(text.strip("\n"))
    if not blocks:
        return ""
    head = "".join(block.rstrip() + "\n\n" for block in blocks[:-1])
    # a trailing space after "Answer:" would make the model start with a space-less token
    return head + blocks[-1].rstrip(" \t")


def resolve_stops(
    stop: str | list[str] | None, *, structured: bool, default_stop: list[str] | None = None
) -> list[str]:
    """The request's own stops, plus the defaults unless output is JSON (a blank line may sit inside it).

    `default_stop` replaces DEFAULT_STOPS for this call ([] turns them off).
    """
    requested = [stop] if isinstance(stop, str) else list(stop or [])
    defaults = [] if structured else list(DEFAULT_STOPS if default_stop is None else default_stop)
    stops: list[str] = []
    for item in requested + defaults:
        if item and item not in stops:
            stops.append(item)
    return stops


@dataclass(frozen=True)
class OutputFormat:
    """Constrained decoding: `json` on means output must be JSON, matching `schema` when given."""

    json: bool = False
    schema: dict[str, Any] | None = None


def output_format(response_format: Any) -> OutputFormat:
    """Read litellm's `response_format` (json_schema, json_object with or without schema, text)."""
    if response_format is None:
        return OutputFormat()
    if hasattr(response_format, "model_json_schema"):  # a pydantic model class
        return OutputFormat(True, response_format.model_json_schema())
    if not isinstance(response_format, dict):
        raise LocalModelError(f"unsupported response_format {response_format!r}")
    kind = response_format.get("type")
    if kind in (None, "text"):
        return OutputFormat()
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return OutputFormat(True, _checked_schema(schema))
    if kind == "json_object":
        return OutputFormat(True, _checked_schema(response_format.get("schema")))
    raise LocalModelError(f"unsupported response_format type {kind!r} (use json_schema, json_object or text)")


def _checked_schema(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    if not isinstance(schema, dict):
        raise LocalModelError(f"a JSON schema must be an object, got {type(schema).__name__}")
    return schema


def schema_key(fmt: OutputFormat) -> str | None:
    """Cache key of the grammar for `fmt`: None for free text, "json" for any JSON, else the schema hash."""
    if not fmt.json:
        return None
    if fmt.schema is None:
        return "json"
    canonical = json.dumps(fmt.schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "schema:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CallOptions:
    """Everything one local generation needs, read from what litellm hands the provider."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = DEFAULT_SEED
    stop: tuple[str, ...] = DEFAULT_STOPS
    output: OutputFormat = OutputFormat()
    lora_path: str | None = None
    lora_scale: float = 1.0


def call_options(optional_params: dict[str, Any] | None) -> CallOptions:
    """Decoding settings from litellm's `optional_params`.

    Custom keyword arguments (`lora_path=...`, which `GenerationParams.extra` becomes) arrive as
    top-level keys of `optional_params` (litellm 1.106 passes unknown kwargs through there);
    `extra_body={...}` arrives nested under "extra_body". Top-level keys win.
    """
    source = dict(optional_params or {})
    params: dict[str, Any] = dict(source.pop("extra_body", None) or {})
    params.update(source)
    fmt = output_format(params.get("response_format"))
    default_stop = params.get("default_stop")
    if isinstance(default_stop, str):
        default_stop = [default_stop]
    max_tokens = params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    temperature = params.get("temperature")
    top_p = params.get("top_p")
    seed = params.get("seed")
    lora_path = params.get("lora_path")
    return CallOptions(
        max_tokens=int(max_tokens),
        temperature=0.0 if temperature is None else float(temperature),
        top_p=1.0 if top_p is None else float(top_p),
        seed=DEFAULT_SEED if seed is None else int(seed),
        stop=tuple(resolve_stops(params.get("stop"), structured=fmt.json, default_stop=default_stop)),
        output=fmt,
        lora_path=str(lora_path) if lora_path else None,
        lora_scale=float(params.get("lora_scale", 1.0)),
    )
