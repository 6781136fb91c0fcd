"""Integrity of the demo's knowledge update: corpus_v2 differs from corpus exactly where the
changed questions say, and each changed answer is in its document after the update."""

from __future__ import annotations

import json
import string
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "suites" / "demo"


def normalise(text: str) -> str:
    return " ".join(text.lower().translate(str.maketrans("", "", string.punctuation)).split())


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_changed_questions_match_the_second_corpus():
    before = {r["id"]: r for r in rows("questions.jsonl") if r["split"] == "test"}
    changed = rows("updates.jsonl")
    assert 10 <= len(changed) <= 15 and len({r["id"] for r in changed}) == len(changed)
    docs_changed = set()
    for row in changed:
        old = before[row["id"]]
        assert row["question"] == old["question"] and row["doc_ids"] == old["doc_ids"]
        assert normalise(row["answer"]) != normalise(old["answer"]) and row["answer_json"]["answer"] == row["answer"]
        assert "changed" in row["tags"]
        doc = row["doc_ids"][0]
        assert normalise(row["answer"]) in normalise((ROOT / "corpus_v2" / doc).read_text(encoding="utf-8")), row["id"]
        assert normalise(row["answer"]) not in normalise((ROOT / "corpus" / doc).read_text(encoding="utf-8")), row["id"]
        docs_changed.add(doc)
    names = sorted(p.name for p in (ROOT / "corpus").glob("*.md"))
    assert names == sorted(p.name for p in (ROOT / "corpus_v2").glob("*.md"))
    differing = {n for n in names if (ROOT / "corpus" / n).read_bytes() != (ROOT / "corpus_v2" / n).read_bytes()}
    assert differing == docs_changed  # nothing else in the corpus moved
