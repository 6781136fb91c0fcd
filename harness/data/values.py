"""One dataset cell read as the Example field it maps to: text, JSON, lists, yes/no flags, graded
relevance. CSV cells hold everything as text, so each reader also accepts the text form.
"""

from __future__ import annotations

import json
from typing import Any


_EMPTY_BY_DEFAULT = frozenset({"reference_doc_ids", "reference_relevance", "reference_contexts", "tags", "metadata"})


def is_default(field: str, value: Any) -> bool:
    """Whether `value` is the Example field's default (None, or an empty list or dict)."""
    if field in _EMPTY_BY_DEFAULT:
        return isinstance(value, (list, dict)) and not value
    return value is None and field not in ("id", "input", "split")


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def as_list(value: Any) -> list[str]:
    """Lists stay lists; CSV cells hold JSON lists or `a;b` / `a|b` / `a,b` separated values."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        for sep in (";", "|", ","):
            if sep in text:
                return [p.strip() for p in text.split(sep) if p.strip()]
        return [text]
    return [str(value)]


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def as_flag(value: Any, column: str) -> bool | None:
    """A yes/no cell: JSON booleans, 0/1, or true/false/yes/no text (any case); empty: not said."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{column!r} must be true or false (or yes/no, 1/0), got {value!r}")


def as_relevance(value: Any) -> dict[str, float]:
    value = as_json(value)
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError("reference relevance must map document ids to grades")
    return {str(k): float(v) for k, v in value.items()}
