"""A JSON Schema compiled for one draft: meta-schema checked, ECMA-262 patterns, `format` as an
annotation or asserted, `$vocabulary` honoured, remote `$ref`s only from a given registry.

`compile_schema` raises `SchemaProblem` (what is wrong and at which JSON Pointer); the metric
turns it into a ConfigError that names the metric.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from harness.metrics.ecma_regex import EcmaRegexError, to_python
from harness.metrics.schema_cycles import ref_cycle_problem
from harness.metrics.schema_patterns import pattern_keywords
from harness.metrics.schema_dialect import (
    DEFAULT_DRAFT,
    DRAFTS,
    META_SCHEMAS,
    draft_name,
    draft_of_uri,
    normalise_draft,
    subschemas,
)

_VOCAB = "https://json-schema.org/draft/{draft}/vocab/"
_CORE = {"$id", "$schema", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
         "$vocabulary", "$comment", "$defs"}
_APPLICATOR = {"prefixItems", "items", "additionalItems", "contains", "additionalProperties", "properties",
               "patternProperties", "dependentSchemas", "propertyNames", "if", "then", "else", "allOf", "anyOf",
               "oneOf", "not"}
_UNEVALUATED = {"unevaluatedItems", "unevaluatedProperties"}
_VALIDATION = {"type", "const", "enum", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
               "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
               "minContains", "maxProperties", "minProperties", "required", "dependentRequired"}
VOCABULARIES = {
    "2019-09": {"core": _CORE, "applicator": _APPLICATOR | _UNEVALUATED, "validation": _VALIDATION,
                "format": set(), "meta-data": set(), "content": set()},
    "2020-12": {"core": _CORE, "applicator": _APPLICATOR, "unevaluated": _UNEVALUATED, "validation": _VALIDATION,
                "format-annotation": set(), "format-assertion": set(), "meta-data": set(), "content": set()},
}


class SchemaProblem(ValueError):
    """The schema cannot be used: the message says what and where (a JSON Pointer)."""


@dataclass
class CompiledSchema:
    schema: Any
    draft: str
    draft_from: str
    format_assert: bool
    validator: Any
    patterns: dict[str, str] = field(default_factory=dict)

    def errors(self, instance: Any) -> list[Any]:
        """Every validation error, sorted by instance path. Raises SchemaProblem for a `$ref` that
        cannot be resolved (remote schemas are never fetched)."""
        import referencing.exceptions

        try:
            found = list(self.validator.iter_errors(instance))
        except referencing.exceptions.Unresolvable as error:
            raise SchemaProblem(f"cannot resolve $ref {getattr(error, 'ref', error)!s}: remote schemas are not "
                                "fetched (inline the referenced schema)") from None
        return sorted(found, key=lambda e: [str(p) for p in e.absolute_path])


def _base_class(draft: str) -> Any:
    import jsonschema

    return {"4": jsonschema.Draft4Validator, "6": jsonschema.Draft6Validator, "7": jsonschema.Draft7Validator,
            "2019-09": jsonschema.Draft201909Validator, "2020-12": jsonschema.Draft202012Validator}[draft]


def _no_retrieval(uri: str) -> Any:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)


def detect_draft(schema: Any, default: str | None, registry: Any) -> tuple[str, str, dict[str, bool] | None]:
    """(draft, where it came from, `$vocabulary` of a custom meta-schema or None)."""
    if not isinstance(schema, dict) or "$schema" not in schema:
        if default is None:
            return DEFAULT_DRAFT, f"default ({DEFAULT_DRAFT})", None
        return normalise_draft(default), "answer_format.draft", None
    uri = schema["$schema"]
    if not isinstance(uri, str):
        raise SchemaProblem(f"#/$schema: must be a string, not {uri!r}")
    try:
        draft = draft_of_uri(uri)
    except ValueError as error:
        raise SchemaProblem(f"#/$schema: {error}") from None
    if draft is not None:
        return draft, "$schema", None
    meta = _custom_meta_schema(uri, registry)
    draft = draft_of_uri(meta.get("$schema", "")) if isinstance(meta.get("$schema"), str) else None
    if draft is None:
        raise SchemaProblem(f"#/$schema: meta-schema {uri!r} does not declare a supported draft in its own $schema")
    vocabulary = meta.get("$vocabulary")
    return draft, f"$schema (meta-schema {uri})", vocabulary if isinstance(vocabulary, dict) else None


def _custom_meta_schema(uri: str, registry: Any) -> dict[str, Any]:
    import referencing.exceptions

    try:
        contents = registry.get_or_retrieve(uri.rstrip("#")).value.contents
    except (referencing.exceptions.Unretrievable, referencing.exceptions.NoSuchResource):
        supported = ", ".join(draft_name(d) for d in DRAFTS)
        raise SchemaProblem(f"#/$schema: {uri!r} is not a JSON Schema draft the harness knows ({supported}) and "
                            "no meta-schema with that URI is available") from None
    if not isinstance(contents, dict):
        raise SchemaProblem(f"#/$schema: meta-schema {uri!r} is not an object")
    return contents


def _disabled_keywords(draft: str, vocabulary: dict[str, bool] | None) -> tuple[set[str], bool]:
    """(keywords whose vocabulary the meta-schema leaves out, whether format is asserted)."""
    if vocabulary is None or draft not in VOCABULARIES:
        return set(), False
    prefix, known = _VOCAB.format(draft=draft), VOCABULARIES[draft]
    listed = set()
    for uri, required in vocabulary.items():
        if uri.startswith(prefix) and uri[len(prefix):] in known:
            listed.add(uri[len(prefix):])
        elif required:
            raise SchemaProblem(f"#/$schema: the meta-schema requires vocabulary {uri!r}, which is not supported")
    disabled = set().union(*(words for name, words in known.items() if name not in listed)) - _CORE
    return disabled, "format-assertion" in listed


def _translate_patterns(schema: Any) -> tuple[Any, dict[str, str]]:
    """A copy of the schema with every ECMA-262 pattern as its Python `re` equivalent."""
    if not isinstance(schema, dict):
        return schema, {}
    schema, originals = copy.deepcopy(schema), {}

    def translate(pattern: str, where: str) -> str:
        try:
            python = to_python(pattern)
        except EcmaRegexError as error:
            raise SchemaProblem(f"{where}: invalid regular expression {pattern!r}: {error}") from None
        originals[python] = pattern
        return python

    for path, node in list(subschemas(schema)):
        if isinstance(node.get("pattern"), str):
            node["pattern"] = translate(node["pattern"], f"{path}/pattern")
        if isinstance(node.get("patternProperties"), dict):
            node["patternProperties"] = {
                translate(key, f"{path}/patternProperties"): value for key, value in node["patternProperties"].items()
            }
    return schema, originals


def _meta_schema_problem(cls: Any, schema: Any, draft: str) -> str | None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    meta = validator_for(cls.META_SCHEMA, default=cls)(cls.META_SCHEMA)
    error = best_match(meta.iter_errors(schema))
    if error is None:
        return None
    where = "#" + "".join(f"/{p}" for p in error.absolute_path)
    return f"{where}: not a valid {draft_name(draft)} schema: {error.message}"


def compile_schema(schema: Any, *, draft: str | None = None, format_assert: bool = False,
                   registry: Any = None) -> CompiledSchema:
    """The validator for `schema`: its draft from `$schema`, else `draft` (default 2020-12)."""
    import jsonschema
    import referencing

    if not isinstance(schema, (dict, bool)):
        raise SchemaProblem(f"a JSON Schema is an object or a boolean, not {type(schema).__name__}")
    registry = registry if registry is not None else referencing.Registry(retrieve=_no_retrieval)
    found, draft_from, vocabulary = detect_draft(schema, draft, registry)
    base = _base_class(found)
    problem = _meta_schema_problem(base, schema, found)
    if problem:
        raise SchemaProblem(problem)
    disabled, vocabulary_asserts = _disabled_keywords(found, vocabulary)
    translated, originals = _translate_patterns(schema)
    keywords: dict[str, Any] = pattern_keywords(originals)  # matched within the scoring limit
    if found in VOCABULARIES:  # draft 7's `dependencies`, which 2019-09 split in two, still honoured
        keywords["dependencies"] = jsonschema.Draft7Validator.VALIDATORS["dependencies"]
    keywords.update({keyword: _ignored for keyword in disabled if keyword in base.VALIDATORS})
    cls = jsonschema.validators.extend(base, keywords)
    asserts = format_assert or vocabulary_asserts
    checker = None
    if asserts:
        from harness.metrics.json_formats import format_checker

        checker = format_checker()
    validator = cls(translated, registry=registry, format_checker=checker)
    _check_refs(translated, found, registry)
    return CompiledSchema(schema, found, draft_from, asserts, validator, originals)


def _check_refs(schema: Any, draft: str, registry: Any) -> None:
    """Every `$ref` resolves now, not at the first output that reaches it. Schemas that change
    their base URI with `$id` are left to validation time (their refs resolve relative to it)."""
    import referencing.exceptions
    import referencing.jsonschema
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS

    nodes = list(subschemas(schema))
    id_keyword = "id" if draft == "4" else "$id"
    if not nodes or any(isinstance(node.get(id_keyword), str) for _, node in nodes):
        return
    spec = referencing.jsonschema.specification_with(META_SCHEMAS[draft])
    resolver = SPECIFICATIONS.combine(registry).resolver_with_root(spec.create_resource(schema))
    for path, node in nodes:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            continue
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable:
            remote = not ref.startswith("#")
            hint = ("remote schemas are not fetched: copy it into $defs" if remote
                    else "no such location in the schema")
            raise SchemaProblem(f"{path}/$ref: cannot resolve {ref!r} ({hint})") from None
    if problem := ref_cycle_problem(nodes, lambda ref: _resolved(resolver, ref)):
        raise SchemaProblem(problem)  # every sample would otherwise be an error (harness.metrics.schema_cycles)


def _resolved(resolver: Any, ref: str) -> Any:
    import referencing.exceptions

    try:
        return resolver.lookup(ref).contents
    except referencing.exceptions.Unresolvable:
        return None


def _ignored(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
    return iter(())
