"""Format metrics: strict/fenced JSON, JSON Schema by draft with failing paths, regex, choice, fields."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import ConfigError
from harness.metrics.base import MetricContext
from harness.metrics.format import (
    ChoiceConfig,
    ChoiceValid,
    FieldAccuracy,
    FieldAccuracyConfig,
    JsonSchema,
    JsonSchemaConfig,
    JsonValid,
    JsonValidConfig,
)
from harness.metrics.regex_match import RegexConfig, RegexMatch
from harness.types import Example, Response

ROOT = Path(__file__).resolve().parents[2]
EX = Example(id="e", input="q")


def one(metric, response: Response, example: Example = EX):
    [score] = asyncio.run(metric.score(example, response))
    assert score.status != "ok" or score.value is not None
    return score


def context(answer_schema=None, base: Path = ROOT) -> MetricContext:
    suite = SimpleNamespace(
        answer_format=SimpleNamespace(json_schema=answer_schema) if answer_schema is not None else None,
        resolve=lambda p: base / p,
    )
    return MetricContext(suite=suite, gateway=None, cache_dir=base)  # type: ignore[arg-type]


def test_json_valid_strict_fenced_and_broken() -> None:
    metric = JsonValid(JsonValidConfig(type="json_valid"))
    strict = one(metric, Response(text='{"a": 1}'))
    assert (strict.value, strict.detail["extracted"]) == (1.0, "strict")
    fenced = one(metric, Response(text='Here:\n```json\n{"a": 1}\n```'))
    assert (fenced.value, fenced.detail["extracted"]) == (1.0, "fenced")
    broken = one(metric, Response(text='{"a": 1'))
    assert broken.status == "ok" and broken.value == 0.0 and "not valid JSON" in broken.reason
    no_fence = JsonValid(JsonValidConfig(type="json_valid", allow_fenced=False))
    assert one(no_fence, Response(text='```json\n{"a": 1}\n```')).value == 0.0


SCHEMA_2020 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"answer": {"type": "string"}, "sources": {"type": "array", "prefixItems": [{"type": "string"}]}},
    "required": ["answer", "sources"],
}


def test_schema_failing_path_in_reason() -> None:
    metric = JsonSchema(JsonSchemaConfig(type="json_schema", schema=SCHEMA_2020), context())
    assert one(metric, Response(text='{"answer": "x", "sources": ["a.md"]}')).value == 1.0
    bad = one(metric, Response(text='{"answer": "x", "sources": [3]}'))
    assert bad.value == 0.0 and bad.reason.startswith("$.sources[0]:") and "string" in bad.reason
    assert bad.detail["path"] == "$.sources[0]" and bad.detail["draft"] == "2020-12"
    assert bad.detail["draft_from"] == "$schema" and bad.detail["keyword"] == "type"
    missing = one(metric, Response(text='{"answer": "x"}'))
    assert missing.value == 0.0 and "'sources' is a required property" in missing.reason
    not_json = one(metric, Response(text="the answer is x"))
    assert not_json.value == 0.0 and "not valid JSON" in not_json.reason


def test_draft7_and_2020_12_differ_on_prefix_items() -> None:
    """`prefixItems` exists in 2020-12 only; draft 7 ignores it (and uses `items` arrays instead)."""
    draft7 = {**SCHEMA_2020, "$schema": "http://json-schema.org/draft-07/schema#"}
    no_dialect = {k: v for k, v in SCHEMA_2020.items() if k != "$schema"}
    text = '{"answer": "x", "sources": [3]}'
    m7 = JsonSchema(JsonSchemaConfig(type="json_schema", schema=draft7), context())
    m2020 = JsonSchema(JsonSchemaConfig(type="json_schema", schema=SCHEMA_2020), context())
    default = JsonSchema(JsonSchemaConfig(type="json_schema", schema=no_dialect), context())
    assert m7.draft == "7" and one(m7, Response(text=text)).value == 1.0
    assert one(m2020, Response(text=text)).value == 0.0
    assert default.draft == "2020-12" and one(default, Response(text=text)).value == 0.0
    assert one(default, Response(text=text)).detail["draft_from"] == "default (2020-12)"
    tuple_items = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [{"type": "integer"}]}
    m7_items = JsonSchema(JsonSchemaConfig(type="json_schema", schema=tuple_items), context())
    assert one(m7_items, Response(text='["x"]')).reason.startswith("$[0]:")


def test_schema_from_path_and_suite_default(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(SCHEMA_2020))
    by_path = JsonSchema(JsonSchemaConfig(type="json_schema", schema="s.json"), context(base=tmp_path))
    assert one(by_path, Response(text='{"answer": "x", "sources": []}')).value == 1.0
    demo = JsonSchema(JsonSchemaConfig(type="json_schema"), context("suites/demo/answer_schema.json"))
    extra = one(demo, Response(text='```json\n{"answer": "2 years", "sources": [], "note": 1}\n```'))
    assert extra.value == 0.0 and "Additional properties" in extra.reason and extra.detail["extracted"] == "fenced"
    with pytest.raises(ConfigError):
        JsonSchema(JsonSchemaConfig(type="json_schema"), context())
    with pytest.raises(ConfigError, match="not a valid 2020-12 schema"):
        JsonSchema(JsonSchemaConfig(type="json_schema", schema={"type": 5}), context())


def test_regex_and_choice() -> None:
    regex = RegexMatch(RegexConfig(type="regex", pattern=r"\d+ years", json_field="answer"))
    assert one(regex, Response(text='{"answer": "2 years", "sources": []}')).value == 1.0
    assert one(regex, Response(text='{"answer": "two years"}')).value == 0.0
    full = RegexMatch(RegexConfig(type="regex", name="yes_no", pattern="yes|no", mode="fullmatch", ignore_case=True))
    assert full.names == ["yes_no"] and one(full, Response(text=" Yes ")).value == 1.0
    assert one(full, Response(text="yes, maybe")).value == 0.0
    with pytest.raises(ConfigError):
        RegexMatch(RegexConfig(type="regex", pattern="("))
    choice = ChoiceValid(ChoiceConfig(type="choice", choices=["yes", "no", "maybe"]))
    assert one(choice, Response(text="Maybe.")).value == 1.0
    wrong = one(choice, Response(text="probably"))
    assert wrong.value == 0.0 and "not one of the choices" in wrong.reason


def test_field_accuracy() -> None:
    metric = FieldAccuracy(FieldAccuracyConfig(type="field_accuracy", fields=["answer", "sources", "meta.year"]))
    ref = Example(id="e", input="q", reference_json={"answer": "2 years", "sources": ["w.md"], "meta": {"year": 2020}})
    half = one(metric, Response(text='{"answer": "2 years", "sources": ["x.md"], "meta": {"year": 2020}}'), ref)
    assert half.value == pytest.approx(2 / 3) and half.detail["fields"]["sources"] is False and "sources" in half.reason
    parsed = one(metric, Response(text="ignored", parsed={"answer": "2 years", "sources": ["w.md"], "meta": {"year": 2020}}), ref)
    assert parsed.value == 1.0
    assert one(metric, Response(text="nope"), ref).value == 0.0
    assert one(metric, Response(text="{}"), EX).status == "undefined"
    default_fields = FieldAccuracy(FieldAccuracyConfig(type="field_accuracy"))
    assert one(default_fields, Response(text='{"answer": "2 years"}'), ref).value == pytest.approx(1 / 3)
    loose = FieldAccuracy(FieldAccuracyConfig(type="field_accuracy", fields=["answer"], normalise=True))
    assert one(loose, Response(text='{"answer": "2 Years."}'), ref).value == 1.0
    assert one(FieldAccuracy(FieldAccuracyConfig(type="field_accuracy", fields=["zzz"])), Response(text="{}"), ref).status == "undefined"
