"""Format validity: JSON parse, JSON Schema, choice, and per-field accuracy against a reference
JSON (the regex check is regex_match.py). Each is 1.0 / 0.0 (field_accuracy: a share) with the
reason for a 0 recorded.

JSON is read strictly (RFC 8259, see `extract.read_json`): NaN and Infinity are not JSON, and
duplicate keys are reported in the reason. JSON Schema validation is by draft (see
`schema_validator`); the score's detail records which draft validated the output and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.errors import ConfigError
from harness.metrics.base import Metric, MetricConfig, MetricContext, ScoringTimeout, metric_type, scoring_limit
from harness.metrics.basic import normalise_answer
from harness.metrics.bounded_regex import bounded
from harness.metrics.extract import JsonRead, answer_text, get_path, non_finite_path, read_json
from harness.metrics.schema_dialect import schema_warnings
from harness.metrics.schema_validator import SchemaProblem, compile_schema
from harness.types import Example, Response, Score

def _zero(name: str, reason: str, **detail: Any) -> Score:
    """A real 0 (the output fails the check), with the reason kept."""
    return Score(name=name, value=0.0, status="ok", reason=reason, detail=detail)


def metric_location(config: MetricConfig, context: MetricContext | None) -> str:
    """`metrics[2] (json_schema)`: where a metric sits in the suite, for its error messages."""
    suite = context.suite if context is not None else None
    metrics = getattr(suite, "metrics", None) or []
    index = next((i for i, m in enumerate(metrics) if m is config), None)
    name = getattr(config, "name", config.type)
    label = config.type if name == config.type else f"{config.type} {name!r}"
    return f"metrics[{index}] ({label})" if index is not None else f"{label} metric"


def _duplicates_note(read: JsonRead) -> str | None:
    return f"duplicate keys (the last value is used): {', '.join(read.duplicate_keys)}" if read.duplicate_keys else None


def _read_detail(read: JsonRead) -> dict[str, Any]:
    detail: dict[str, Any] = {"extracted": read.how}
    if read.duplicate_keys:
        detail["duplicate_keys"] = read.duplicate_keys
    return detail


class JsonValidConfig(MetricConfig):
    type: Literal["json_valid"]
    name: str = "json_valid"
    allow_fenced: bool = Field(True, description="Accept JSON in a ``` or ~~~ fenced block (extracted: fenced).")


class JsonValid(Metric):
    """1 when the output (or, with allow_fenced, a fenced block) is strict JSON: see `extract` for
    non-finite numbers (rejected) and integers past Python's 4300 digits (read, up to a bound)."""

    group = "format"
    bounded = True  # never waits; linear in the output

    def __init__(self, config: JsonValidConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]

    async def score(self, example: Example, response: Response) -> list[Score]:
        read = read_json(response.text, self.config.allow_fenced)
        if not read.ok:
            return [_zero(self.config.name, read.error or "not valid JSON")]
        score = Score.ok(self.config.name, 1.0, **_read_detail(read))
        score.reason = _duplicates_note(read)
        return [score]


metric_type("json_valid", JsonValidConfig)(JsonValid)


class JsonSchemaConfig(MetricConfig):
    type: Literal["json_schema"]
    name: str = "json_schema"
    json_schema: dict[str, Any] | bool | str | None = Field(
        None, alias="schema", description="Inline schema, true/false, or a file path; default: answer_format.schema."
    )
    format: Literal["annotation", "assert"] = Field(
        "annotation", description="`format` is an annotation (JSON Schema 2020-12's default) or asserted: every "
        "standard format (date-time, email, uri, hostname, ...) is then checked."
    )
    allow_fenced: bool = True
    model_config = {"extra": "forbid", "populate_by_name": True}


def load_schema(schema: dict[str, Any] | bool | str | None, context: MetricContext | None) -> tuple[Any, str]:
    """(schema, where it came from): inline, a file, or the suite's answer_format.schema."""
    suite = context.suite if context is not None else None
    source = "schema"
    if schema is None and suite is not None and suite.answer_format is not None:
        schema, source = suite.answer_format.json_schema, "answer_format.schema"
    if schema is None:
        raise ConfigError("needs `schema` (inline or a path) or answer_format.schema")
    if isinstance(schema, str):
        path = suite.resolve(schema) if suite is not None else Path(schema)
        source = f"{source} ({path})"
        from harness.files.textfile import TextFileError, read_text

        try:  # read_text: a regular UTF-8 file within the input size limit (not a FIFO, not /dev/zero)
            schema = json.loads(read_text(Path(path)))
        except TextFileError as error:
            raise ConfigError(f"cannot read JSON Schema {error.where}: {error.message}") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"JSON Schema {path} is not JSON (line {error.lineno}: {error.msg})") from None
        except RecursionError:
            raise ConfigError(f"JSON Schema {path} is nested too deeply to read") from None
    if not isinstance(schema, (dict, bool)):
        raise ConfigError(f"{source}: a JSON Schema is an object or a boolean, not {type(schema).__name__}")
    return schema, source


def default_draft(context: MetricContext | None) -> str | None:
    """The suite's answer_format.draft when the user set it (None: the 2020-12 default)."""
    fmt = getattr(context.suite, "answer_format", None) if context is not None else None
    if fmt is None or "draft" not in getattr(fmt, "model_fields_set", {"draft"}):
        return None
    return getattr(fmt, "draft", None)


class JsonSchema(Metric):
    """1 when the output is JSON valid against the schema; else 0 with the failing path and message.
    `warnings` lists keywords of another draft in a schema without `$schema` (for pre-flight).
    Its patterns are matched by `bounded_regex` within the scoring limit. It validates the JSON that
    `read_json` finds (the whole text, else the first fenced block that parses), not the first block
    that validates: every format metric then judges the same answer, and an output offering several
    candidates is not rewarded for one of them fitting."""

    group = "format"
    bounded = True

    def __init__(self, config: JsonSchemaConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]
        where = metric_location(config, context)
        try:
            self.schema, source = load_schema(config.json_schema, context)
        except ConfigError as error:
            raise ConfigError(str(error), where=where) from None
        draft = default_draft(context)
        try:
            self.compiled = compile_schema(self.schema, draft=draft, format_assert=config.format == "assert")
        except SchemaProblem as error:
            hints = "".join(f"; {w}" for w in schema_warnings(self.schema, draft))
            raise ConfigError(f"{source}: {error}{hints}", where=where) from None
        self.draft = self.compiled.draft
        self.limit_s = scoring_limit(context)
        self.warnings = [f"{where}: {source}: {w}" for w in schema_warnings(self.schema, draft)]

    def _detail(self, **more: Any) -> dict[str, Any]:
        compiled = self.compiled
        return {"draft": compiled.draft, "draft_from": compiled.draft_from,
                "format": "assert" if compiled.format_assert else "annotation", **more}

    async def score(self, example: Example, response: Response) -> list[Score]:
        from jsonschema.exceptions import best_match

        name = self.config.name
        read = read_json(response.text, self.config.allow_fenced)
        if not read.ok:
            return [_zero(name, read.error or "not valid JSON", **self._detail())]
        try:
            errors = await bounded(self.compiled.errors, read.value, limit_s=self.limit_s)
        except SchemaProblem as error:
            return [Score.failed(name, f"schema: {error}", **self._detail(**_read_detail(read)))]
        except ScoringTimeout as error:
            return [Score.failed(name, str(error), **self._detail(**_read_detail(read)))]
        note = _duplicates_note(read)
        if not errors:
            score = Score.ok(name, 1.0, **self._detail(**_read_detail(read)))
            score.reason = note
            return [score]
        best = best_match(errors)
        listed = [{"path": e.json_path, "message": e.message} for e in errors[:10]]
        reason = f"{best.json_path}: {best.message}" + (f"; {note}" if note else "")
        detail = self._detail(**_read_detail(read), path=best.json_path, message=best.message, keyword=best.validator,
                              errors=listed, n_errors=len(errors))
        return [_zero(name, reason, **detail)]


metric_type("json_schema", JsonSchemaConfig)(JsonSchema)


class ChoiceConfig(MetricConfig):
    type: Literal["choice"]
    name: str = "choice_valid"
    choices: list[str] = Field(..., min_length=1)
    json_field: str | None = None
    normalise: bool = Field(True, description="Compare after SQuAD normalisation (case, punctuation, articles).")


class ChoiceValid(Metric):
    group = "format"
    bounded = True  # never waits; linear in the output

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
    bounded = True  # never waits; linear in the output

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
        output, how, read = self._output(response)
        if how is None:
            return [_zero(name, f"output is {read.error}", fields=len(wanted))]
        matches = {f: self._same(_lookup(output, f, None), v) for f, v in wanted.items()}
        wrong = [f for f, ok in matches.items() if not ok]
        value = sum(matches.values()) / len(matches)
        notes = [f"fields differ: {', '.join(wrong)}" if wrong else None, _duplicates_note(read)]
        reason = "; ".join(n for n in notes if n) or None
        detail: dict[str, Any] = {"fields": matches, "extracted": how}
        if read.duplicate_keys:
            detail["duplicate_keys"] = read.duplicate_keys
        return [Score(name=name, value=value, reason=reason, detail=detail)]

    def _output(self, response: Response) -> tuple[Any, str | None, JsonRead]:
        """The output's JSON: the adapter's parsed value when it set one (a NaN or infinity there
        is not JSON), else the text read strictly."""
        read = read_json(response.text, self.config.allow_fenced)
        if response.parsed is None:
            return read.value, read.how, read
        bad = non_finite_path(response.parsed)
        if bad is not None:
            return None, None, JsonRead(error=f"not valid JSON: {bad} is not a finite number (RFC 8259)")
        same = read.ok and read.value == response.parsed
        return response.parsed, "parsed", read if same else JsonRead(response.parsed, "parsed")


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

