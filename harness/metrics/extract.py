"""Getting the answer out of an output: a JSON field when the output is JSON, else the text."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.types import Response

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def parse_json(text: str) -> tuple[Any, str | None]:
    """Strict parse first; then a fenced block. Returns (value, how) or (None, None)."""
    try:
        return json.loads(text), "strict"
    except (json.JSONDecodeError, TypeError):
        pass
    found = _FENCE.search(text or "")
    if found:
        try:
            return json.loads(found.group(1)), "fenced"
        except json.JSONDecodeError:
            pass
    return None, None


def get_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def answer_text(response: Response, json_field: str | None) -> tuple[str, str]:
    """The text to grade and where it came from: `json:<field>` or `raw`."""
    if json_field:
        parsed = response.parsed
        if parsed is None:
            parsed, _ = parse_json(response.text)
        value = get_path(parsed, json_field) if parsed is not None else None
        if value is not None:
            return str(value), f"json:{json_field}"
    return response.text, "raw"


def find_json_object(text: str) -> tuple[Any, str | None]:
    """parse_json, then the first balanced {...} or [...] span in the text (`embedded`)."""
    value, how = parse_json(text)
    if how is not None:
        return value, how
    decoder = json.JSONDecoder()
    for start, char in enumerate(text or ""):
        if char in "{[":
            try:
                return decoder.raw_decode(text, start)[0], "embedded"
            except json.JSONDecodeError:
                continue
    return None, None
