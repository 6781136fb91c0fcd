"""Failure attribution: each bucket on a hand-built run directory, one example per bucket."""

from __future__ import annotations

from tests.decision_runs import sample, write_run
from harness.decision import analyse

SYSTEMS = {"base": {"kind": "prompt", "model": "m"}, "rag": {"kind": "rag", "model": "m"},
           "oracle": {"kind": "oracle", "model": "m"}}
RIGHT = {"contains_answer": 1, "json_schema": 1}
WRONG = {"contains_answer": 0, "json_schema": 1}


def rag_cases() -> list[dict]:
    """(example id, rag sample, oracle correctness) for every bucket of a retrieving system."""
    return [
        sample("rag", "err", RIGHT, error="HTTP 503", retrieved=[]),
        sample("rag", "unscored", {"contains_answer": "undefined", "json_schema": 1}, retrieved=["a.md"]),
        sample("rag", "declined", {**WRONG, "declined_answerable": 1}, retrieved=["a.md"]),
        sample("rag", "answered", {**WRONG, "declined_unanswerable": 0}, retrieved=["b.md"], doc_ids=[]),
        sample("rag", "ok", RIGHT, retrieved=["a.md"]),
        sample("rag", "fmt", {"contains_answer": 1, "json_schema": 0}, retrieved=["a.md"]),
        sample("rag", "miss", WRONG, retrieved=["b.md", "c.md"]),
        sample("rag", "miss2", WRONG, retrieved=["b.md"]),
        sample("rag", "fixed", WRONG, retrieved=["b.md", "a.md"]),
        sample("rag", "gen", WRONG, retrieved=["a.md"]),
        sample("rag", "noref", WRONG, retrieved=["b.md"], doc_ids=[]),
    ]


ORACLE_RIGHT = {"err": 1, "unscored": 1, "declined": 1, "answered": 1, "ok": 1, "fmt": 1, "miss": 1, "miss2": 0,
                "fixed": 1, "gen": 0, "noref": 1}


def test_every_bucket_of_a_retrieving_system_with_an_oracle(tmp_path):
    samples = rag_cases()
    for example_id, right in ORACLE_RIGHT.items():
        samples.append(sample("oracle", example_id, {"contains_answer": right, "json_schema": 1}, retrieved=["a.md"]))
        samples.append(sample("base", example_id, WRONG if example_id != "ok" else RIGHT))
    decision = analyse(write_run(tmp_path / "run", SYSTEMS, samples))
    rag = next(a for a in decision.attribution if a.system == "rag")
    assert rag.scheme == "retrieval" and rag.n == 11
    ids = {b.key: b.ids for b in rag.buckets}
    assert ids == {
        "correct": ["ok"], "format_failure": ["fmt"], "retrieval_miss": ["miss", "miss2"], "fixed_by_oracle": ["fixed", "noref"],
        "wrong_with_oracle": ["gen"], "wrongly_declined": ["declined"], "wrongly_answered": ["answered"],
        "error": ["err"], "unscored": ["unscored"],
    }
    miss = next(b for b in rag.buckets if b.key == "retrieval_miss")
    assert miss.oracle_right == 1 and miss.count == 2  # miss: oracle right; miss2: oracle wrong too
    assert sum(b.count for b in rag.buckets) == rag.n
    base = next(a for a in decision.attribution if a.system == "base")
    assert base.scheme == "no_retrieval"
    assert {b.key: b.count for b in base.buckets} == {"correct": 1, "knowledge": 10}
    oracle = next(a for a in decision.attribution if a.system == "oracle")
    assert oracle.scheme == "no_retrieval"
    # given the reference documents, its wrong answers are generation problems, not missing knowledge
    assert {b.key: b.count for b in oracle.buckets} == {"correct": 9, "wrong_with_oracle": 2}


def test_without_an_oracle_retrieved_wrong_answers_stay_unsplit(tmp_path):
    samples = [sample("rag", "gen", WRONG, retrieved=["a.md"]), sample("rag", "miss", WRONG, retrieved=["b.md"]),
               sample("base", "gen", {"contains_answer": 1, "json_schema": 0}),
               sample("base", "miss", WRONG)]
    decision = analyse(write_run(tmp_path / "run", {k: SYSTEMS[k] for k in ("base", "rag")}, samples))
    rag = {b.key: b for b in next(a for a in decision.attribution if a.system == "rag").buckets}
    assert rag["retrieved_wrong"].ids == ["gen"] and rag["retrieval_miss"].ids == ["miss"]
    assert rag["retrieval_miss"].oracle_right is None  # no oracle in the run: nothing to say
    base = {b.key: b.ids for b in next(a for a in decision.attribution if a.system == "base").buckets}
    assert base == {"correct": [], "format_failure": ["gen"], "knowledge": ["miss"]}


def test_graded_correctness_uses_the_declared_threshold(tmp_path):
    samples = [sample("base", "a", {"contains_answer": 0.6}), sample("base", "b", {"contains_answer": 0.4})]
    run = write_run(tmp_path / "run", {"base": SYSTEMS["base"]}, samples, decision={"correct_at": 0.5})
    buckets = {b.key: b.ids for b in analyse(run).attribution[0].buckets}
    assert buckets == {"correct": ["a"], "knowledge": ["b"]}
    run = write_run(tmp_path / "run2", {"base": SYSTEMS["base"]}, samples, decision={"correct_at": 0.3})
    assert {b.key: b.ids for b in analyse(run).attribution[0].buckets} == {"correct": ["a", "b"]}
