"""`parse_json` reads every line as `json.loads` does (the fast path must never change a value),
and refuses what it refuses with the same error."""

from __future__ import annotations

import json

import pytest

from harness.files import jsonl
from harness.files.jsonl import parse_json

SAME = [
    '{"a": 1, "a": 2}',  # the last key wins
    '{"x": 123456789012345678901234567890}',  # beyond 64 bits: an exact int, not a float
    '{"x": -9223372036854775809, "y": 18446744073709551615}',
    '{"deep": [1, {"y": [99999999999999999999]}]}',
    '{"f": 0.00012345678901234567, "big": [12345678901234567890123]}',  # a long fraction beside a huge int
    '{"big":12345678901234567890123}',  # no space before it
    '{"x": 1e19, "y": -9.3e18}',  # floats that large go through json too: the same values
    '{"id": "1234567890123456789012"}',  # long digits in a string
    '{"x": NaN, "y": Infinity, "z": -Infinity}',
    '{"x": 1e400}',
    '"\\ud800"',  # a lone surrogate
    '{"x": -0.0, "y": 0.1, "z": 5e-324, "w": 1E5}',
    '{"t": "é ✓ \\u00e9\\n", "nested": [[], {}, [null, true, false]]}',
    ' {"padded": 1} \r',
]


@pytest.mark.parametrize("text", SAME)
def test_every_value_reads_as_json_reads_it(text: str):
    expected = json.loads(text)
    for given in (text, text.encode("utf-8")):
        got = parse_json(given)
        assert repr(got) == repr(expected)
        assert type(got) is type(expected)


def test_the_fast_path_is_taken_for_a_run_line(monkeypatch: pytest.MonkeyPatch):
    if jsonl.orjson is None:
        pytest.skip("orjson is not installed")
    called = []
    monkeypatch.setattr(jsonl.json, "loads", lambda *a, **k: called.append(a) or {})
    line = b'{"system": "s0", "scores": {"latency_s": {"value": 0.00030779799999436364}}, "n": 9000000000000000000}'
    assert parse_json(line) == {"system": "s0", "scores": {"latency_s": {"value": 0.00030779799999436364}},
                                "n": 9000000000000000000}
    assert called == []


@pytest.mark.parametrize("raw", [b'{"x":', b"[1,]", b"\xff{}", b""])
def test_what_json_refuses_is_refused_with_its_error(raw: bytes):
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)) as expected:
        json.loads(raw.decode("utf-8"))
    with pytest.raises(type(expected.value)) as got:
        parse_json(raw)
    assert str(got.value) == str(expected.value)
