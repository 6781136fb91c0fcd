"""The sample filter language: what parses to what, and errors that say where."""

from __future__ import annotations

import pytest

from harness.store.where import All, Any_, Compare, Not, StatusIs, WhereError, check, parse, references


def test_the_issue_example_parses_to_two_comparisons():
    assert parse("rag.contains_answer = 0 and oracle.contains_answer = 1") == All((
        Compare("rag", "contains_answer", "=", 0.0), Compare("oracle", "contains_answer", "=", 1.0)))


def test_and_binds_tighter_than_or_and_parentheses_and_not_work():
    a, b, c = (Compare(s, "m", ">", 0.5) for s in ("a", "b", "c"))
    assert parse("a.m > 0.5 or b.m > 0.5 and c.m > 0.5") == Any_((a, All((b, c))))
    assert parse("(a.m > 0.5 or b.m > .5) and c.m>5e-1") == All((Any_((a, b)), c))
    assert parse("not not a.m > 0.5") == Not(Not(a))
    assert parse("NOT (a.m > 0.5 OR b.m > 0.5)") == Not(Any_((a, b)))


def test_operators_statuses_and_names():
    assert [parse(f"s.m {op} -1").op for op in ("=", "==", "!=", "<>", "<", "<=", ">", ">=")] == [
        "=", "=", "!=", "!=", "<", "<=", ">", ">="]
    assert parse("rag.faithfulness is error") == StatusIs("rag", "faithfulness", "error")
    assert parse("rag.recall@3 is not undefined") == StatusIs("rag", "recall@3", "undefined", negate=True)
    assert parse('"rag[top_k=0.5]".recall@3 >= 1') == Compare("rag[top_k=0.5]", "recall@3", ">=", 1.0)
    assert parse("rag[top_k=3,retriever=bm25].ndcg@5 < 0.25") == Compare("rag[top_k=3,retriever=bm25]", "ndcg@5", "<", 0.25)
    assert parse("`my system`.`a.b` = 2") == Compare("my system", "a.b", "=", 2.0)
    assert parse("oracle.x = 1 and notes.y = 1 and order.z = 1").items[1] == Compare("notes", "y", "=", 1.0)


@pytest.mark.parametrize("text, message", [
    ("", "empty expression"),
    ("rag = 1", "expected `.` between the system and the metric (system.metric) at column 5"),
    ("rag.m", "expected a comparison (= != < <= > >=) or `is` at column 6 (found 'the end')"),
    ("rag.m = one", "expected a number at column 9 (found 'one')"),
    ("rag.m is maybe", "expected ok, undefined or error at column 10"),
    ("(rag.m = 1", "expected `)` at column 11"),
    ("rag.m = 1 oracle.m = 1", "expected `and`, `or` or the end at column 11"),
    ('"rag.m = 1', "expected a closing \" at column 1"),
    ("and.m = 1", "expected a system name (system.metric) at column 1"),
])
def test_errors_say_what_was_expected_and_where(text, message):
    with pytest.raises(WhereError) as caught:
        parse(text)
    assert message in str(caught.value)


def test_names_are_checked_against_the_run():
    expr = parse("rag.a = 1 or not (oracle.b is ok)")
    assert list(references(expr)) == [("rag", "a"), ("oracle", "b")]
    check(expr, ["rag", "oracle"], ["a", "b"])
    with pytest.raises(WhereError, match="no system 'oracle' in this run \\(systems: rag\\)"):
        check(expr, ["rag"], ["a", "b"])
    with pytest.raises(WhereError, match="no metric 'b'"):
        check(expr, ["rag", "oracle"], ["a"])
