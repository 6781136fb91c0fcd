"""Integrity checks for the demo suite data and the faithfulness benchmark cases."""

import json
import re
import string
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "suites" / "demo"
CORPUS = SUITE / "corpus"
QUESTIONS = SUITE / "questions.jsonl"
SCHEMA = SUITE / "answer_schema.json"
FAITHFULNESS = ROOT / "benchmarks" / "data" / "faithfulness_cases.jsonl"

KEBAB_MD = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
QUESTION_KEYS = {"id", "split", "question", "answer", "answer_json", "doc_ids", "tags"}
FAITH_KEYS = {"id", "answer", "contexts", "faithful", "note"}


def _read_jsonl(path):
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:  # pragma: no cover - failure path
            pytest.fail(f"{path.name}:{lineno} is not valid JSON: {exc}")
    return rows


def _normalise(text):
    text = text.lower()
    text = text.translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


@pytest.fixture(scope="module")
def docs():
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md"))}


@pytest.fixture(scope="module")
def questions():
    return _read_jsonl(QUESTIONS)


@pytest.fixture(scope="module")
def faith_cases():
    return _read_jsonl(FAITHFULNESS)


# --- corpus -----------------------------------------------------------------


def test_corpus_has_enough_documents(docs):
    assert len(docs) >= 32, f"expected >= 32 corpus docs, found {len(docs)}"


def test_corpus_file_names_are_kebab_case(docs):
    bad = [name for name in docs if not KEBAB_MD.match(name)]
    assert not bad, f"non kebab-case file names: {bad}"


def test_corpus_docs_start_with_title(docs):
    for name, text in docs.items():
        assert text.startswith("# "), f"{name} does not start with '# '"
        title = text.splitlines()[0][2:].strip()
        assert title, f"{name} has an empty title"


def test_corpus_doc_lengths(docs):
    for name, text in docs.items():
        words = len(text.split())
        assert 120 <= words <= 300, f"{name} has {words} words (want 120-300)"


# --- questions ---------------------------------------------------------------


def test_question_rows_have_exact_fields(questions):
    for row in questions:
        assert set(row) == QUESTION_KEYS, f"{row.get('id')}: fields {sorted(row)}"
        assert row["split"] in {"train", "test"}, row["id"]
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert isinstance(row["answer"], str) and row["answer"].strip(), row["id"]
        assert isinstance(row["doc_ids"], list), row["id"]
        assert isinstance(row["tags"], list) and row["tags"], row["id"]


def test_question_counts(questions):
    test_rows = [r for r in questions if r["split"] == "test"]
    train_rows = [r for r in questions if r["split"] == "train"]
    assert len(test_rows) >= 44, f"only {len(test_rows)} test rows"
    assert len(train_rows) >= 72, f"only {len(train_rows)} train rows"


def test_question_ids_unique_and_prefixed(questions):
    ids = [r["id"] for r in questions]
    assert len(ids) == len(set(ids)), "duplicate question ids"
    for row in questions:
        prefix = "t" if row["split"] == "test" else "r"
        assert re.fullmatch(prefix + r"\d{3}", row["id"]), f"bad id {row['id']} for split {row['split']}"


def test_doc_ids_exist(questions, docs):
    for row in questions:
        for doc_id in row["doc_ids"]:
            assert doc_id in docs, f"{row['id']}: unknown doc_id {doc_id}"


def test_answerable_answers_are_verbatim(questions, docs):
    for row in questions:
        if "unanswerable" in row["tags"]:
            continue
        assert "fact" in row["tags"], f"{row['id']}: answerable row without 'fact' tag"
        assert row["doc_ids"], f"{row['id']}: answerable row without doc_ids"
        answer = row["answer"].lower()
        assert any(answer in docs[d].lower() for d in row["doc_ids"]), (
            f"{row['id']}: answer {row['answer']!r} not found in {row['doc_ids']}"
        )


def test_unanswerable_rows(questions):
    unanswerable = [r for r in questions if "unanswerable" in r["tags"]]
    assert unanswerable, "no unanswerable rows"
    for row in unanswerable:
        assert row["doc_ids"] == [], row["id"]
        assert row["answer"] == "unknown", row["id"]
        assert row["answer_json"] == {"answer": "unknown", "sources": []}, row["id"]
        assert "fact" not in row["tags"], row["id"]
    for split in ("train", "test"):
        rows = [r for r in questions if r["split"] == split]
        share = sum("unanswerable" in r["tags"] for r in rows) / len(rows)
        assert 0.05 <= share <= 0.25, f"{split}: unanswerable share {share:.2f}"


def test_format_rows_present(questions):
    for split in ("train", "test"):
        rows = [r for r in questions if r["split"] == split]
        share = sum("format" in r["tags"] for r in rows) / len(rows)
        assert 0.15 <= share <= 0.40, f"{split}: format share {share:.2f}"
    for row in questions:
        if "format" in row["tags"]:
            assert "fact" in row["tags"], f"{row['id']}: format row must also be a fact row"


def test_answer_json_matches(questions):
    for row in questions:
        aj = row["answer_json"]
        assert set(aj) == {"answer", "sources"}, row["id"]
        assert aj["answer"] == row["answer"], row["id"]
        assert aj["sources"] == row["doc_ids"], row["id"]


def test_no_train_test_question_overlap(questions):
    train = {_normalise(r["question"]) for r in questions if r["split"] == "train"}
    test = {_normalise(r["question"]) for r in questions if r["split"] == "test"}
    overlap = train & test
    assert not overlap, f"questions shared between train and test: {sorted(overlap)}"


def test_questions_are_short(questions):
    for row in questions:
        assert len(row["question"].split()) < 20, f"{row['id']}: question too long"
        if "unanswerable" not in row["tags"]:
            assert len(row["answer"].split()) <= 6, f"{row['id']}: answer too long"


def test_splits_cover_corpus(questions, docs):
    for split in ("train", "test"):
        used = {d for r in questions if r["split"] == split for d in r["doc_ids"]}
        assert len(used) >= 0.8 * len(docs), f"{split} covers only {len(used)} of {len(docs)} docs"


# --- answer schema -------------------------------------------------------------


def test_answer_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert "2020-12" in schema["$schema"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"answer", "sources"}
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["answer"]["type"] == "string"
    assert props["answer"]["minLength"] == 1
    assert props["sources"]["type"] == "array"
    assert props["sources"]["items"]["type"] == "string"


def test_answer_json_conforms_to_schema_shape(questions):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    allowed = set(schema["properties"])
    for row in questions:
        aj = row["answer_json"]
        assert set(aj) <= allowed and set(schema["required"]) <= set(aj), row["id"]
        assert isinstance(aj["answer"], str) and len(aj["answer"]) >= 1, row["id"]
        assert isinstance(aj["sources"], list) and all(isinstance(s, str) for s in aj["sources"]), row["id"]


# --- faithfulness cases ----------------------------------------------------------


def test_faithfulness_cases(faith_cases):
    assert len(faith_cases) >= 48, f"only {len(faith_cases)} faithfulness cases"
    ids = [c["id"] for c in faith_cases]
    assert len(ids) == len(set(ids)), "duplicate faithfulness ids"
    labels = [c["faithful"] for c in faith_cases]
    assert True in labels and False in labels, "both labels must be present"
    share = sum(labels) / len(labels)
    assert 0.35 <= share <= 0.65, f"faithful share {share:.2f} is unbalanced"
    for case in faith_cases:
        assert set(case) == FAITH_KEYS, f"{case.get('id')}: fields {sorted(case)}"
        assert isinstance(case["faithful"], bool), case["id"]
        assert isinstance(case["answer"], str) and case["answer"].strip(), case["id"]
        assert isinstance(case["note"], str) and case["note"].strip(), case["id"]
        assert 1 <= len(case["contexts"]) <= 3, case["id"]
        assert all(isinstance(c, str) and c.strip() for c in case["contexts"]), case["id"]
