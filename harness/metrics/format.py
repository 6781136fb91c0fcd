"""Format validity: JSON parse, JSON Schema, regex, choice, and per-field accuracy against a
reference JSON. Each is 1.0 / 0.0 (field_accuracy: a share) with the reason for a 0 recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.errors import ConfigError
from harness.metrics.base import Metric, MetricConfig, MetricContext, metric_type
from harness.metrics.basic import normalise_answer
from harness.metrics.extract import answer_text, get_path, parse_json
from harness.types import Example, Response, Score

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _zero(name: str, reason: str, **detail: Any) -> Score:
    """A real 0 (the output fails the check), with the reason kept."""
    return Score(name=name, value=0.0, status="ok", reason=reason, detail=detail)


def parsed_output(response: Response, allow_fenced: bool = True) -> tuple[Any, str | None, str | None]:
    """(value, how, error): strict JSON of the text, else a fenced ```json block when allowed."""
    value, how = parse_json(response.text)
    if how == "fenced" and not allow_fenced:
        value, how = None, None
    if how is not None:
        return value, how, None
    try:
        json.loads(response.text)
    except json.JSONDecodeError as error:
        return None, None, f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    except TypeError:
        pass
    return None, None, "not valid JSON"


class JsonValidConfig(MetricConfig):
    type: Literal["json_valid"]
    name: str = "json_valid"
    allow_fenced: bool = Field(True, description="Accept JSON inside a ``` fence (recorded as extracted: fenced).")


class JsonValid(Metric):
    group = "format"

    def __init__(self, config: JsonValidConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]

    async def score(self, example: Example, response: Response) -> list[Score]:
        _, how, error = parsed_output(response, self.config.allow_fenced)
        if how is None:
            return [_zero(self.config.name, error or "not valid JSON")]
        return [Score.ok(self.config.name, 1.0, extracted=how)]


metric_type("json_valid", JsonValidConfig)(JsonValid)


class JsonSchemaConfig(MetricConfig):
    type: Literal["json_schema"]
    name: str = "json_schema"
    json_schema: dict[str, Any] | str | None = Field(
        None, alias="schema", description="Inline schema or a file path; default: answer_format.schema."
    )
    allow_fenced: bool = True
    model_config = {"extra": "forbid", "populate_by_name": True}


def load_schema(schema: dict[str, Any] | str | None, context: MetricContext | None) -> dict[str, Any]:
    suite = context.suite if context is not None else None
    if schema is None and suite is not None and suite.answer_format is not None:
        schema = suite.answer_format.json_schema
    if schema is None:
        raise ConfigError("json_schema metric needs `schema` (inline or a path) or answer_format.schema")
    if isinstance(schema, str):
        path = suite.resolve(schema) if suite is not None else Path(schema)
        try:
            schema = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read JSON Schema {path}: {error}") from None
    if not isinstance(schema, dict):
        raise ConfigError("a JSON Schema must be an object")
    return schema


def make_validator(schema: dict[str, Any]) -> Any:
    """Validator class chosen by `$schema` (draft 7, 2019-09, 2020-12, ...); 2020-12 by default."""
    import jsonschema
    from jsonschema.exceptions import SchemaError

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as error:
        raise ConfigError(f"invalid JSON Schema ({cls.__name__}): {error.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class JsonSchema(Metric):
    group = "format"

    def __init__(self, config: JsonSchemaConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]
        self.schema = load_schema(config.json_schema, context)
        self.validator = make_validator(self.schema)
        self.draft = type(self.validator).__name__

    async def score(self, example: Example, response: Response) -> list[Score]:
        from jsonschema.exceptions import best_match

        name = self.config.name
        value, how, error = parsed_output(response, self.config.allow_fenced)
        if how is None:
            return [_zero(name, error or "not valid JSON", validator=self.draft)]
        errors = sorted(self.validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if not errors:
            return [Score.ok(name, 1.0, extracted=how, validator=self.draft)]
        best = best_match(errors)
        listed = [{"path": e.json_path, "message": e.message} for e in errors[:10]]
        return [
            _zero(
                name,
                f"{best.json_path}: {best.message}",
                extracted=how,
                validator=self.draft,
                path=best.json_path,
                errors=listed,
                n_errors=len(errors),
            )
        ]


metric_type("json_schema", JsonSchemaConfig)(JsonSchema)


class RegexConfig(MetricConfig):
    type: Literal["regex"]
    name: str = "regex"
    pattern: str
    json_field: str | None = None
    mode: Literal["search", "fullmatch"] = "search"
    ignore_case: bool = False


class RegexMatch(Metric):
    group = "format"

    def __init__(self, config: RegexConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]
        try:
            self.pattern = re.compile(config.pattern, re.S | (re.I if config.ignore_case else 0))
        except re.error as error:
            raise ConfigError(f"regex metric: invalid pattern {config.pattern!r}: {error}") from None

    async def score(self, example: Example, response: Response) -> list[Score]:
        text, source = answer_text(response, self.config.json_field)
        match = self.pattern.fullmatch(text.strip()) if self.config.mode == "fullmatch" else self.pattern.search(text)
        if match is None:
            return [_zero(self.config.name, f"no match for {self.config.pattern!r}", source=source)]
        return [Score.ok(self.config.name, 1.0, source=source)]


metric_type("regex", RegexConfig)(RegexMatch)


class ChoiceConfig(MetricConfig):
    type: Literal["choice"]
    name: str = "choice_valid"
    choices: list[str] = Field(..., min_length=1)
    json_field: str | None = None
    normalise: bool = Field(True, description="Compare after SQuAD normalisation (case, punctuation, articles).")


class ChoiceValid(Metric):
    group = "format"

    """1 when the answer is one of the allowed choices (the format check for classification)."""

    def __init__(self, config: ChoiceConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]
        self._key = normalise_answer if config.normalise else str.strip
        self.allowed = {self._key(c): c for c in config.choices}

    async def score(self, example: Example, response: Response) -> list[Score]:
        text, source = answer_text(response, self.config.json_field)
        found = self.allowed.get(self._key(text))
        if found is None:
            return [_zero(self.config.name, f"answer {text[:80]!r} is not one of the choices", source=source)]
        return [Score.ok(self.config.name, 1.0, source=source, choice=found)]


metric_type("choice", ChoiceConfig)(ChoiceValid)


class FieldAccuracyConfig(MetricConfig):
    type: Literal["field_accuracy"]
    name: str = "field_accuracy"
    fields: list[str] | None = Field(None, description="Dotted paths; default: the reference's top-level keys.")
    normalise: bool = Field(False, description="Compare strings after SQuAD normalisation.")
    allow_fenced: bool = True


class FieldAccuracy(Metric):
    group = "format"

    """Share of the listed fields whose value in the output equals the reference JSON's."""

    def __init__(self, config: FieldAccuracyConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]

    def _same(self, got: Any, want: Any) -> bool:
        if self.config.normalise and isinstance(got, str) and isinstance(want, str):
            return normalise_answer(got) == normalise_answer(want)
        if isinstance(got, bool) or isinstance(want, bool):
            return got is want
        return got == want

    async def score(self, example: Example, response: Response) -> list[Score]:
        name, reference = self.config.name, example.reference_json
        if reference is None:
            return [Score.undefined(name, "example has no reference JSON")]
        fields = self.config.fields or (sorted(reference) if isinstance(reference, dict) else [])
        missing = object()
        wanted = {f: _lookup(reference, f, missing) for f in fields}
        wanted = {f: v for f, v in wanted.items() if v is not missing}
        if not wanted:
            return [Score.undefined(name, "reference JSON has none of the fields")]
        output, how = response.parsed, "parsed"
        if output is None:
            output, how, error = parsed_output(response, self.config.allow_fenced)
            if how is None:
                return [_zero(name, f"output is {error}", fields=len(wanted))]
        matches = {f: self._same(_lookup(output, f, None), v) for f, v in wanted.items()}
        wrong = [f for f, ok in matches.items() if not ok]
        value = sum(matches.values()) / len(matches)
        reason = f"fields differ: {', '.join(wrong)}" if wrong else None
        return [Score(name=name, value=value, reason=reason, detail={"fields": matches, "extracted": how})]


def _lookup(value: Any, path: str, default: Any) -> Any:
    """get_path, but telling a missing field apart from a null one."""
    parent, _, last = path.rpartition(".")
    holder = get_path(value, parent) if parent else value
    if isinstance(holder, dict):
        return holder.get(last, default)
    if isinstance(holder, list) and last.isdigit() and int(last) < len(holder):
        return holder[int(last)]
    return default


metric_type("field_accuracy", FieldAccuracyConfig)(FieldAccuracy)
