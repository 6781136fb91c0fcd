"""The decision facts keep each system's outcomes as columns (`OutcomeTable`): what is read back
is what went in, whatever a sample leaves out."""

from __future__ import annotations

import math

import pytest

from harness.decision.outcomes import NO_STATUS, FloatColumn, Outcome, OutcomeTable


def ok(value: float) -> dict:
    return {"status": "ok", "value": value}


def test_outcomes_read_back_as_they_were_given():
    table = OutcomeTable()
    table.add("a", {"text": "x", "timings": {"total_s": 0.5, "generation_s": 0.4}, "usage": {"input_tokens": 7},
                    "cost_usd": 0.001}, {"em": ok(1.0)}, keep_text=False)
    table.add("b", {"error": "boom", "cached": True, "timings": {}}, {"em": {"status": "error", "value": None}},
              keep_text=True)
    table.add("c", {"text": "y", "retrieved": [{"doc_id": "d2", "rank": 2}, {"doc_id": "d1", "rank": 1}],
                    "metadata": {"declined": False}},
              {"em": {"status": "undefined"}, "f1": ok(0.25), "late": {"status": "ok", "value": None}}, keep_text=True)
    assert list(table) == ["a", "b", "c"] and len(table) == 3 and "b" in table and "z" not in table
    assert table["a"].record() == Outcome(values={"em": 1.0}, status=NO_STATUS, error=False, text="", retrieved=None,
                                 total_s=0.5, retrieval_s=None, generation_s=0.4, tokens_in=7, tokens_out=0,
                                 cost_usd=0.001, cached=False, declined=None)
    b = table["b"]
    assert b.error and b.cached and b.status == {"em": "error"} and dict(b.values) == {} and b.tokens_in is None
    assert b.total_s is None and b.text == ""
    c = table["c"]
    assert dict(c.values) == {"f1": 0.25} and c.status == {"em": "undefined"}  # ok without a value: neither
    assert c.retrieved == ["d1", "d2"] and c.declined is False and c.text == "y"
    assert dict(table["a"].values) == {"em": 1.0}  # a metric first seen later is absent, not 0, before it
    assert "f1" not in table["a"].values and table["c"].values.get("em") is None and table["c"].values["f1"] == 0.25
    assert table.metric_values("em") == {"a": 1.0} and table.metric_values("f1") == {"c": 0.25}
    assert table.metric_values("nope") == {}


def test_a_repeated_example_keeps_the_later_sample_once():
    table = OutcomeTable()
    table.add("a", {}, {"em": ok(0.0)}, keep_text=False)
    table.add("a", {}, {"em": ok(1.0)}, keep_text=False)
    assert list(table) == ["a"] and dict(table["a"].values) == {"em": 1.0} and table.metric_values("em") == {"a": 1.0}


def test_tables_sharing_an_index_keep_their_own_examples_and_order():
    from harness.decision.outcomes import ExampleIndex

    index = ExampleIndex()
    a, b = OutcomeTable(index), OutcomeTable(index)
    for i in ("x", "y", "z"):
        a.add(i, {}, {"em": ok(1.0)}, keep_text=False)
    for i in ("z", "w"):
        b.add(i, {}, {"em": ok(0.0)}, keep_text=False)
    assert list(a) == ["x", "y", "z"] and list(b) == ["z", "w"] and len(a) == 3 and len(b) == 2
    assert "w" not in a and "x" not in b and "nope" not in a
    assert b.metric_values("em") == {"z": 0.0, "w": 0.0} and a["z"].values["em"] == 1.0
    assert index.ids == ["x", "y", "z", "w"]  # one entry per example, whichever system saw it


def test_float_columns_give_back_every_value_exactly_and_store_what_they_need():
    empty = FloatColumn()
    for _ in range(3):
        empty.append(math.nan)
    assert empty.data is None and len(empty) == 3 and math.isnan(empty[2]) and math.isnan(empty[-1])
    with pytest.raises(IndexError):
        empty[3]

    small = FloatColumn(2)  # two rows before its first value
    values = [1.0, 0.0, 12345.0, -0.0, math.nan, 0.5]
    for value in values:
        small.append(value)
    assert small.data is not None and small.data.typecode == "f"  # all exact as float32: 4 bytes a row
    read = [small[i] for i in range(len(small))]
    assert all(math.isnan(v) for v in read[:2]) and math.isnan(read[6])
    assert [read[i] for i in (2, 3, 4, 5, 7)] == [1.0, 0.0, 12345.0, -0.0, 0.5]
    assert math.copysign(1.0, read[5]) == -1.0

    wide = FloatColumn()
    inexact = [1.0, 0.10113223799999105, 1e300, 1e-40, 2.0**60 + 1.0, 3.0]
    for value in inexact:
        wide.append(value)
    assert wide.data.typecode == "d" and [wide[i] for i in range(len(inexact))] == inexact


def test_token_counts_and_missing_usage_read_back_through_rows():
    table = OutcomeTable()
    table.add("a", {"usage": {"input_tokens": 12, "output_tokens": 2**40}}, {}, keep_text=False)
    table.add("b", {}, {}, keep_text=False)
    assert (table["a"].tokens_in, table["a"].tokens_out) == (12, 2**40)
    assert (table["b"].tokens_in, table["b"].tokens_out) == (None, None)
