"""json_schema by draft: the dialect from $schema or answer_format.draft, warnings for keywords of
another draft, boolean schemas, format as annotation or asserted, ECMA-262 patterns, located errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from harness.errors import ConfigError
from harness.metrics.base import MetricContext
from harness.metrics.format import JsonSchema, JsonSchemaConfig
from harness.metrics.schema_dialect import schema_warnings
from harness.suite.loader import load_suite
from harness.suite.model import AnswerFormat
from harness.types import Example, Response

EX = Example(id="e", input="q")
# Written for draft 7, with no $schema: tuple `items`, `additionalItems`, `dependencies`, `$id: "#foo"`.
DRAFT7_SCHEMA = {
    "type": "object",
    "properties": {
        "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False},
        "code": {"$id": "#code", "type": "string"},
    },
    "dependencies": {"unit": ["amount"]},
}


def score(metric: JsonSchema, text: str):
    [result] = asyncio.run(metric.score(EX, Response(text=text)))
    return result


def suite_with(answer_format=None, metrics=()):
    return SimpleNamespace(answer_format=answer_format, metrics=list(metrics), resolve=lambda p: Path(p))


def metric(schema=None, draft=None, fmt="annotation", answer_schema=None) -> JsonSchema:
    config = JsonSchemaConfig(type="json_schema", schema=schema, format=fmt)
    answer_format = None
    if draft is not None or answer_schema is not None:
        answer_format = AnswerFormat(schema=answer_schema, **({"draft": draft} if draft is not None else {}))
    context = MetricContext(suite=suite_with(answer_format, [config]), gateway=None, cache_dir=Path("."))  # type: ignore[arg-type]
    return JsonSchema(config, context)


def test_draft_setting_reads_a_schema_without_dollar_schema_as_that_draft() -> None:
    m7 = metric(DRAFT7_SCHEMA, draft=7)
    assert m7.draft == "7" and m7.warnings == []
    assert score(m7, '{"pair": ["a", 1]}').value == 1.0
    tuple_fail = score(m7, '{"pair": ["a", "b"]}')
    assert tuple_fail.value == 0.0 and tuple_fail.detail["path"] == "$.pair[1]"
    assert tuple_fail.detail["draft"] == "7" and tuple_fail.detail["draft_from"] == "answer_format.draft"
    assert score(m7, '{"pair": ["a", 1, true]}').value == 0.0  # additionalItems: false
    missing = score(m7, '{"unit": "kg"}')
    assert missing.value == 0.0 and "'amount' is a dependency of 'unit'" in missing.reason


def test_schema_of_another_draft_without_dollar_schema_is_refused_with_the_keywords_named() -> None:
    with pytest.raises(ConfigError) as raised:
        metric(DRAFT7_SCHEMA)
    message = str(raised.value)
    assert message.startswith("metrics[0] (json_schema): schema: #/properties/pair/items: not a valid 2020-12 schema")
    for keyword in ("items (array form) at #/properties/pair", "additionalItems", "dependencies at #",
                    "$id (plain-name fragment) at #/properties/code", "answer_format.draft"):
        assert keyword in message


def test_schema_warnings_name_keywords_of_another_draft() -> None:
    """A schema that still compiles as 2020-12 but uses a draft-7 keyword gets a warning (pre-flight)."""
    only_dependencies = {"type": "object", "dependencies": {"unit": ["amount"]}}
    [warning] = schema_warnings(only_dependencies)
    assert "read as 2020-12" in warning and "dependencies at #" in warning and "draft 7" in warning
    assert schema_warnings(only_dependencies, "7") == []
    assert schema_warnings({**only_dependencies, "$schema": "http://json-schema.org/draft-07/schema#"}) == []
    assert "prefixItems at #" in schema_warnings({"prefixItems": [{"type": "string"}]}, "7")[0]
    m = metric(only_dependencies)
    assert len(m.warnings) == 1 and m.warnings[0].startswith("metrics[0] (json_schema): schema: the schema has no $schema")


def test_dollar_schema_wins_over_the_draft_setting_and_is_recorded() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "integer"}]}
    m = metric(schema, draft="7")
    result = score(m, '["x"]')
    assert result.value == 0.0 and result.detail["draft"] == "2020-12" and result.detail["draft_from"] == "$schema"
    with pytest.raises(ConfigError, match="draft 3, which is not supported"):
        metric({"$schema": "http://json-schema.org/draft-03/schema#"})
    with pytest.raises(ConfigError, match="not a JSON Schema draft the harness knows"):
        metric({"$schema": "https://example.com/my-meta"})


@pytest.mark.parametrize("where", ["metric", "answer_format"])
def test_boolean_schemas_root_and_nested(where: str) -> None:
    accept_all = metric(True) if where == "metric" else metric(answer_schema=True)
    assert score(accept_all, '{"anything": [1, 2]}').value == 1.0
    reject_all = metric(False) if where == "metric" else metric(answer_schema=False)
    refused = score(reject_all, "{}")
    assert refused.value == 0.0 and "False schema does not allow" in refused.reason
    nested = metric({"properties": {"secret": False}})
    assert score(nested, '{"name": "x"}').value == 1.0 and score(nested, '{"secret": 1}').value == 0.0


def test_format_is_an_annotation_by_default_and_asserted_on_request() -> None:
    schema = {"properties": {f: {"format": f} for f in ("date-time", "uri", "hostname", "email", "date")}}
    bad = {"date-time": "2024-13-01T00:00:00Z", "uri": "not a uri", "hostname": "-bad-", "email": "nobody",
           "date": "2024-02-30"}
    annotation, asserted = metric(schema), metric(schema, fmt="assert")
    for name, value in bad.items():
        text = f'{{"{name}": "{value}"}}'
        assert score(annotation, text).value == 1.0, name
        failed = score(asserted, text)
        assert failed.value == 0.0 and failed.detail["keyword"] == "format" and failed.detail["format"] == "assert", name
    good = '{"date-time": "2024-02-29T23:59:60Z", "uri": "https://x.org/a?b#c", "hostname": "x.org", "email": "a@x.org"}'
    assert score(asserted, good).value == 1.0
    assert score(annotation, good).detail["format"] == "annotation"


def test_ecma_patterns_compile_and_match_with_ecma_semantics() -> None:
    m = metric({"properties": {"name": {"type": "string", "pattern": r"^\p{Letter}+$"},
                               "code": {"type": "string", "pattern": r"^\d+$"}},
                "patternProperties": {r"^x-\p{Lu}": {"type": "integer"}}})
    assert score(m, '{"name": "Élodie", "code": "42"}').value == 1.0
    not_letters = score(m, '{"name": "x1"}')
    assert not_letters.value == 0.0 and r"does not match '^\\p{Letter}+$'" in not_letters.reason
    assert score(m, '{"code": "\u0664\u0662"}').value == 0.0  # \d is ASCII in ECMA-262 (Python: any digit)
    assert score(m, '{"code": "42\\n"}').value == 0.0  # $ is the end of input, not before a newline
    assert score(m, '{"x-Élan": "no"}').value == 0.0


def test_schema_that_cannot_compile_is_one_located_error_naming_the_metric(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"id": "1", "input": "q", "reference": "a"}\n')
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "name": "s",
        "dataset": {"path": "data.jsonl"},
        "systems": {"echo": {"kind": "replay", "path": "data.jsonl"}},
        "metrics": [{"type": "json_valid"},
                    {"type": "json_schema", "schema": {"properties": {"a": {"pattern": "(unclosed"}}}}],
    }))
    suite = load_suite(suite_file)
    context = MetricContext(suite=suite, gateway=None, cache_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as raised:
        JsonSchema(suite.metrics[1], context)
    assert str(raised.value) == ("metrics[1] (json_schema): schema: #/properties/a/pattern: invalid regular "
                                 "expression '(unclosed': missing ')' at position 9")


def test_unresolvable_ref_is_a_build_error_not_a_network_fetch() -> None:
    with pytest.raises(ConfigError, match=r"#/properties/a/\$ref: cannot resolve 'https://example.com/s.json' "
                                          r"\(remote schemas are not fetched"):
        metric({"properties": {"a": {"$ref": "https://example.com/s.json"}}})
    with pytest.raises(ConfigError, match="no such location"):
        metric({"$ref": "#/$defs/missing"})
    local = metric({"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}})
    assert score(local, '{"a": "x"}').value == 0.0


def test_nan_and_duplicates_in_json_schema() -> None:
    m = metric({"properties": {"confidence": {"type": "number", "minimum": 0, "maximum": 1}}})
    nan = score(m, '{"confidence": NaN}')
    assert nan.value == 0.0 and "NaN is not a JSON number" in nan.reason
    assert score(m, '{"confidence": Infinity}').value == 0.0
    dup = score(m, '{"confidence": 0.5, "confidence": 0.7}')
    assert dup.value == 1.0 and "duplicate keys" in dup.reason and dup.detail["duplicate_keys"] == ["$.confidence"]


def test_the_first_block_that_parses_is_validated_not_the_first_that_validates() -> None:
    metric = JsonSchema(JsonSchemaConfig(type="json_schema", schema={"required": ["answer"]}))
    text = 'A sketch:\n```json\n{"draft": 1}\n```\nThe answer:\n~~~json\n{"answer": 2}\n~~~'
    [score] = asyncio.run(metric.score(Example(id="e", input="q"), Response(text=text)))
    assert score.value == 0.0 and score.detail["extracted"] == "fenced" and "answer" in score.reason
    broken_first = 'A sketch:\n```json\n{"draft": 1,}\n```\nThe answer:\n~~~json\n{"answer": 2}\n~~~'
    [score] = asyncio.run(metric.score(Example(id="e", input="q"), Response(text=broken_first)))
    assert score.value == 1.0
