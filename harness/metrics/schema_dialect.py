"""Which JSON Schema draft a schema is written in, and the keywords that give another draft away.

The dialect comes from `$schema`; without it, from the suite's `answer_format.draft` (default
2020-12). Nothing is guessed silently: `schema_warnings` names the keywords of another draft that a
schema without `$schema` uses, so `harness validate` and the run can show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

DRAFTS = ("4", "6", "7", "2019-09", "2020-12")
DEFAULT_DRAFT = "2020-12"
META_SCHEMAS = {
    "4": "http://json-schema.org/draft-04/schema#",
    "6": "http://json-schema.org/draft-06/schema#",
    "7": "http://json-schema.org/draft-07/schema#",
    "2019-09": "https://json-schema.org/draft/2019-09/schema",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
_BY_URI = {uri.rstrip("#").split("://", 1)[1]: draft for draft, uri in META_SCHEMAS.items()}
_UNSUPPORTED = {"json-schema.org/draft-03/schema": "draft 3", "json-schema.org/schema": "the latest draft (unversioned)"}

# Keywords whose value is a subschema, a list of subschemas, or a map of name -> subschema.
_ONE = {"not", "if", "then", "else", "additionalItems", "additionalProperties", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
_MANY = {"allOf", "anyOf", "oneOf", "prefixItems"}
_MAP = {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}

# keyword -> the drafts that define it (what a schema without `$schema` gives away). `definitions`
# and `$defs` are left out: a `$ref` pointer into either works in every draft.
_ONLY_IN = {
    "dependentRequired": ("2019-09", "2020-12"),
    "dependentSchemas": ("2019-09", "2020-12"),
    "unevaluatedProperties": ("2019-09", "2020-12"),
    "unevaluatedItems": ("2019-09", "2020-12"),
    "$anchor": ("2019-09", "2020-12"),
    "minContains": ("2019-09", "2020-12"),
    "maxContains": ("2019-09", "2020-12"),
    "$recursiveRef": ("2019-09",),
    "$recursiveAnchor": ("2019-09",),
    "prefixItems": ("2020-12",),
    "$dynamicRef": ("2020-12",),
    "$dynamicAnchor": ("2020-12",),
    "dependencies": ("4", "6", "7"),
    "additionalItems": ("4", "6", "7", "2019-09"),
    "id": ("4",),
    "const": ("6", "7", "2019-09", "2020-12"),
    "contains": ("6", "7", "2019-09", "2020-12"),
    "propertyNames": ("6", "7", "2019-09", "2020-12"),
    "if": ("7", "2019-09", "2020-12"),
    "then": ("7", "2019-09", "2020-12"),
    "else": ("7", "2019-09", "2020-12"),
}


def draft_name(draft: str) -> str:
    return f"draft {draft}" if len(draft) == 1 else draft


def draft_of_uri(uri: str) -> str | None:
    """The draft a standard `$schema` URI names (http or https, with or without '#'); None if not one.
    Raises ValueError for a recognised draft the harness does not support."""
    key = uri.strip().rstrip("#").split("://", 1)[-1]
    if key in _UNSUPPORTED:
        raise ValueError(f"$schema {uri!r} is {_UNSUPPORTED[key]}, which is not supported (use one of: "
                         + ", ".join(draft_name(d) for d in DRAFTS) + ")")
    return _BY_URI.get(key)


def normalise_draft(value: Any) -> str:
    """`7`, "7", "draft-07", "draft7", "2020-12", "draft2020-12" -> the canonical name."""
    text = str(value).strip().lower().removeprefix("draft").lstrip("-_ ")
    text = text.lstrip("0") if "-" not in text else text
    if text not in DRAFTS:
        raise ValueError(f"unknown JSON Schema draft {value!r} (supported: {', '.join(DRAFTS)})")
    return text


def subschemas(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object (sub)schema with its JSON Pointer, following the applicator keywords only (so
    a property *named* `pattern` or an `enum` value is never mistaken for a keyword)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key, value in schema.items():
        here = f"{path}/{_escape(key)}"
        if key in _ONE or key == "items" and isinstance(value, dict):
            yield from subschemas(value, here)
        elif key in _MANY or key == "items" and isinstance(value, list):
            for i, item in enumerate(value if isinstance(value, list) else []):
                yield from subschemas(item, f"{here}/{i}")
        elif key in _MAP or key == "dependencies":
            for name, item in (value.items() if isinstance(value, dict) else []):
                yield from subschemas(item, f"{here}/{_escape(name)}")


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def foreign_keywords(schema: Any, draft: str) -> dict[str, list[str]]:
    """keyword -> the pointers where a keyword of another draft is used, as `draft` reads it."""
    found: dict[str, list[str]] = {}
    for path, node in subschemas(schema):
        for key, value in node.items():
            label = _foreign(key, value, draft)
            if label:
                found.setdefault(label, []).append(path)
    return found


def _foreign(key: str, value: Any, draft: str) -> str | None:
    if key in _ONLY_IN and draft not in _ONLY_IN[key]:
        return key
    if key == "items" and isinstance(value, list) and draft == "2020-12":
        return "items (array form)"
    if key == "$id" and isinstance(value, str) and value.startswith("#") and draft in ("2019-09", "2020-12"):
        return "$id (plain-name fragment)"
    if key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool) and draft != "4":
        return f"{key} (boolean)"
    if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool) and draft == "4":
        return f"{key} (number)"
    return None


def schema_warnings(schema: Any, draft: str | None = None) -> list[str]:
    """Warnings for a schema without `$schema` that uses keywords of another draft than the one it
    will be read as (`draft`, default 2020-12). Empty when `$schema` is set or nothing is foreign.
    Public: `harness validate` and the run's pre-flight show these."""
    if not isinstance(schema, dict) or "$schema" in schema:
        return []
    draft = normalise_draft(draft or DEFAULT_DRAFT)
    found = foreign_keywords(schema, draft)
    if not found:
        return []
    listed = "; ".join(f"{key} at {', '.join(paths[:3])}{' ...' if len(paths) > 3 else ''}" for key, paths in found.items())
    fits = [d for d in DRAFTS if d != draft and not foreign_keywords(schema, d)]
    hint = f" (they fit {', '.join(draft_name(d) for d in fits)})" if fits else ""
    return [f"the schema has no $schema, so it is read as {draft_name(draft)}, but uses keywords of another "
            f"draft{hint}: {listed}. Set $schema in the schema or answer_format.draft in the suite."]
