"""Train/test leakage on normalised inputs."""

from __future__ import annotations

import json
from pathlib import Path

from harness.data.leakage import check_leakage, find_leaks, canonical_question
from harness.types import Example

ROOT = Path(__file__).resolve().parents[2]


def ex(id: str, text: str, split: str = "test") -> Example:
    return Example(id=id, input=text, split=split)


def test_normalise():
    assert canonical_question("  What IS the  Warranty?\n") == "what is the warranty"
    assert canonical_question("What’s the price — in €?") == "whats the price in €"
    assert canonical_question("Ｆｕｌｌ width") == "full width"


def test_find_leaks_matches_after_normalisation():
    test = [ex("t1", "How long is the warranty?"), ex("t2", "Who founded the company?"), ex("t3", "Where is the plant")]
    train = [
        ex("r1", "how long is the   WARRANTY", "train"),
        ex("r2", "Who founded the company, and when?", "train"),
        ex("r3", "Where is the plant?!", "train"),
        ex("r4", "where is the plant", "train"),
    ]
    assert find_leaks(test, train) == [("t1", "r1"), ("t3", "r3"), ("t3", "r4")]
    assert find_leaks(test, []) == []


def test_report_for_the_run():
    test = [ex("t1", "A b?"), ex("t2", "c"), ex("t3", "d")]
    train = [ex("r1", "a B", "train"), ex("r2", "A. B.", "train")]
    report = check_leakage(test, train)
    assert report.count == 1 and report.test_ids == ["t1"]
    assert report.to_json() == {"count": 1, "n_test": 3, "pairs": [["t1", "r1"], ["t1", "r2"]]}
    assert [e.id for e in report.exclude(test)] == ["t2", "t3"]
    assert report.message().startswith("1 of 3 test examples also appear in the train split (test=train: t1=r1, t1=r2)")
    assert check_leakage(test[1:], train).message() is None


def test_demo_suite_has_no_leaks():
    rows = [json.loads(line) for line in (ROOT / "suites" / "demo" / "questions.jsonl").read_text().splitlines() if line]
    test = [ex(r["id"], r["question"]) for r in rows if r["split"] == "test"]
    train = [ex(r["id"], r["question"], "train") for r in rows if r["split"] == "train"]
    assert len(train) >= 100 and check_leakage(test, train).pairs == []
