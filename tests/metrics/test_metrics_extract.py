"""Strict JSON (RFC 8259) wherever an answer's JSON is read: no NaN/Infinity, duplicate keys
reported, fenced blocks with any case of the `json` tag, every fenced block tried in order."""

from __future__ import annotations

import asyncio
import math

import pytest

from harness.metrics.extract import answer_text, find_json_object, parse_json, read_json
from harness.metrics.format import FieldAccuracy, FieldAccuracyConfig, JsonValid, JsonValidConfig
from harness.types import Example, Response

EX = Example(id="e", input="q")
REF = Example(id="e", input="q", reference_json={"label": "yes", "confidence": 0.9})


def one(metric, response: Response, example: Example = EX):
    [score] = asyncio.run(metric.score(example, response))
    return score


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_not_json(constant: str) -> None:
    text = f'{{"confidence": {constant}}}'
    assert parse_json(text) == (None, None)  # adapters set Response.parsed from this
    read = read_json(text)
    assert not read.ok and read.error == f"not valid JSON: {constant} is not a JSON number (RFC 8259)"
    invalid = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text=text))
    assert invalid.value == 0.0 and constant in invalid.reason
    fenced = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text=f"```json\n{text}\n```"))
    assert fenced.value == 0.0 and "no fenced block parses" in fenced.reason and constant in fenced.reason
    assert find_json_object(f"see {text}") == (None, None)


def test_fence_tag_in_any_case_and_every_block_tried_in_order() -> None:
    metric = JsonValid(JsonValidConfig(type="json_valid"))
    upper = one(metric, Response(text='Answer:\n```JSON\n{"a": 1}\n```'))
    assert (upper.value, upper.detail["extracted"]) == (1.0, "fenced")
    two = 'First a sketch:\n```json\n{"a": 1,}\n```\nThe fix:\n```Json\n{"a": 2}\n```'
    assert read_json(two).value == {"a": 2}
    other_language = '```python\nprint(1)\n```\n```\n{"b": 3}\n```'
    assert read_json(other_language).value == {"b": 3}
    assert read_json('```python\n{"a": 1}\n```').ok is False  # a block tagged with another language
    assert read_json('```json\n{"a": 1}\n```', allow_fenced=False).ok is False


def test_duplicate_keys_are_reported_with_their_paths() -> None:
    text = '{"label": "no", "label": "yes", "meta": {"k": 1, "k": 2}, "confidence": 0.9}'
    read = read_json(text)
    assert read.value["label"] == "yes" and set(read.duplicate_keys) == {"$.label", "$.meta.k"}
    valid = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text=text))
    assert valid.value == 1.0 and "duplicate keys" in valid.reason and "$.label" in valid.reason
    fields = one(FieldAccuracy(FieldAccuracyConfig(type="field_accuracy")), Response(text=text, parsed=read.value), REF)
    assert fields.value == 1.0 and "$.label" in fields.reason and fields.detail["duplicate_keys"]
    assert read_json('{"a": 1, "b": 2}').duplicate_keys == []


def test_field_accuracy_rejects_non_finite_numbers_in_text_and_in_parsed_output() -> None:
    metric = FieldAccuracy(FieldAccuracyConfig(type="field_accuracy"))
    from_text = one(metric, Response(text='{"label": "yes", "confidence": NaN}'), REF)
    assert from_text.value == 0.0 and "NaN is not a JSON number" in from_text.reason
    parsed = one(metric, Response(text="", parsed={"label": "yes", "confidence": math.inf}), REF)
    assert parsed.value == 0.0 and "$.confidence is not a finite number" in parsed.reason


def test_answer_field_reads_strict_json() -> None:
    assert answer_text(Response(text='{"answer": "2 years"}'), "answer") == ("2 years", "json:answer")
    assert answer_text(Response(text='{"answer": "x", "p": NaN}'), "answer")[1] == "raw"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309"])
def test_numbers_out_of_a_doubles_range_fail_like_infinity(number: str) -> None:
    text = f'{{"confidence": {number}}}'
    assert parse_json(text) == (None, None)
    invalid = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text=text))
    assert invalid.value == 0.0 and number in invalid.reason and "not a finite number" in invalid.reason
    assert find_json_object(f"see {text}") == (None, None)
    assert read_json('{"small": 1e308}').value == {"small": 1e308}


def test_long_integers_are_read_up_to_a_bound() -> None:
    from harness.metrics.extract import MAX_INT_DIGITS, int_text

    digits = "9" * 5000
    valid = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text=f'{{"n": -{digits}}}'))
    assert valid.value == 1.0
    assert int_text(read_json(f"[-{digits}]").value[0]) == f"-{digits}"
    assert answer_text(Response(text=f'{{"answer": {digits}}}'), "answer") == (digits, "json:answer")
    too_long = one(JsonValid(JsonValidConfig(type="json_valid")), Response(text="1" * (MAX_INT_DIGITS + 1)))
    assert too_long.value == 0.0 and "number too large" in too_long.reason and "not valid" not in too_long.reason


def test_tilde_and_longer_fences_follow_commonmark() -> None:
    assert read_json('Answer:\n~~~json\n{"a": 1}\n~~~').value == {"a": 1}
    assert read_json('~~~~\n{"a": 2}\n~~~\n~~~~').ok is False  # a shorter fence does not close it
    assert read_json('````JSON\n{"a":\n```\n}\n````').ok is False  # the ``` line is content
    assert read_json('  ~~~ json extra words\n  {"a":\n   3}\n  ~~~~~').value == {"a": 3}  # indent removed
    assert read_json('```json\n{"a": 4}').value == {"a": 4}  # unclosed: runs to the end
    assert read_json('```json\n{"a": 4}\n~~~').ok is False  # a tilde line does not close a backtick fence
    assert read_json('~~~python\n{"a": 5}\n~~~\n```\n{"b": 6}\n```').value == {"b": 6}
    assert read_json('```json `x`\n{"a": 7}\n```').ok is False  # a backtick in the info string: not a fence


def test_fences_models_open_mid_line_are_still_read() -> None:
    assert read_json('Sure! ```json\n{"a": 8}\n```').value == {"a": 8}
    assert read_json('Here it is: ```{"a": 9}```').value == {"a": 9}
