"""The JSON Schema keywords that match a schema's patterns against the output: `pattern`,
`patternProperties` and `additionalProperties` (which skips the names patternProperties match).

They are jsonschema's own, but matching through `bounded_regex.search` instead of `re.search`,
so a pattern that backtracks on a model's output is stopped at the scoring limit (see
bounded_regex). Patterns arrive translated from ECMA-262 (ecma_regex); error messages name the
pattern as the schema wrote it.
"""

from __future__ import annotations

from typing import Any

from harness.metrics.bounded_regex import compile_pattern, search


def _found(python: str, text: str) -> bool:
    return search(compile_pattern(python), text) is not None


def pattern_keywords(originals: dict[str, str]) -> dict[str, Any]:
    """Validator functions by keyword, for `jsonschema.validators.extend`."""
    from jsonschema._utils import extras_msg
    from jsonschema.exceptions import ValidationError

    def pattern(validator: Any, python: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not _found(python, instance):
            yield ValidationError(f"{instance!r} does not match {originals.get(python, python)!r}")

    def pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        for python, subschema in patterns.items():
            for key, value in instance.items():
                if _found(python, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=python)

    def additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        extras = set(_additional(instance, schema))
        if validator.is_type(allowed, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], allowed, path=extra)
        elif not allowed and extras:
            if "patternProperties" in schema:
                verb = "does" if len(extras) == 1 else "do"
                joined = ", ".join(repr(each) for each in sorted(extras))
                shown = ", ".join(repr(originals.get(p, p)) for p in sorted(schema["patternProperties"]))
                yield ValidationError(f"{joined} {verb} not match any of the regexes: {shown}")
            else:
                unexpected = extras_msg(sorted(extras, key=str))
                yield ValidationError("Additional properties are not allowed (%s %s unexpected)" % unexpected)

    return {"pattern": pattern, "patternProperties": pattern_properties, "additionalProperties": additional_properties}


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The instance's names that neither `properties` nor `patternProperties` cover."""
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    for name in instance:
        if name not in properties and not any(_found(python, name) for python in patterns):
            yield name
