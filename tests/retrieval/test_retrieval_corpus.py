"""Corpus ingestion: stable ids, and errors that name the file and say what is wrong."""

from __future__ import annotations

import json

import pytest

from harness.errors import ConfigError
from harness.retrieval.config import CorpusConfig
from harness.retrieval.corpus import load_corpus


def write(path, text, mode="w"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_folder_ids_are_relative_paths_with_forward_slashes(tmp_path):
    write(tmp_path / "docs" / "returns-policy.md", "# Returns\n\nWithin 45 days.")
    write(tmp_path / "docs" / "guides" / "setup.txt", "Plug it in.\r\nThen wait.")
    write(tmp_path / "docs" / "about.html", "<title>About us</title><h1>About</h1><p>We make lamps.</p>")
    write(tmp_path / "docs" / "notes.csv", "ignored,by,default")
    corpus = load_corpus(CorpusConfig(path="docs"), tmp_path)
    assert [d.id for d in corpus.documents] == ["about.html", "guides/setup.txt", "returns-policy.md"]
    assert corpus.by_id["returns-policy.md"].title == "Returns"
    assert corpus.by_id["guides/setup.txt"].title == "setup"
    assert corpus.by_id["guides/setup.txt"].text == "Plug it in.\nThen wait."
    assert corpus.by_id["about.html"].title == "About us"
    assert corpus.by_id["about.html"].text == "# About\n\nWe make lamps."
    only_md = load_corpus(CorpusConfig(path=str(tmp_path / "docs"), include=["*.md"]), tmp_path / "elsewhere")
    assert [d.id for d in only_md.documents] == ["returns-policy.md"]


def test_jsonl_records_with_id_or_underscore_id(tmp_path):
    rows = [
        {"id": "a", "title": "A", "text": "alpha", "metadata": {"year": 2020}},
        {"_id": "b#0", "doc_id": "b", "text": "beta"},
    ]
    write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    corpus = load_corpus(CorpusConfig(path="c.jsonl"), tmp_path)
    assert [d.id for d in corpus.documents] == ["a", "b#0"]
    assert corpus.by_id["a"].metadata == {"year": 2020}
    assert corpus.by_id["b#0"].metadata == {"doc_id": "b"}
    assert corpus.missing(["a", "zz", "b#0", "zz"]) == ["zz"]


def test_content_hash_changes_only_when_a_document_does(tmp_path):
    write(tmp_path / "d" / "a.md", "one")
    write(tmp_path / "d" / "b.md", "two")
    first = load_corpus(CorpusConfig(path="d"), tmp_path).content_hash
    assert load_corpus(CorpusConfig(path="d"), tmp_path).content_hash == first
    write(tmp_path / "d" / "b.md", "two!")
    assert load_corpus(CorpusConfig(path="d"), tmp_path).content_hash != first


def error_text(config, base):
    with pytest.raises(ConfigError) as caught:
        load_corpus(config, base)
    return str(caught.value)


def test_missing_path(tmp_path):
    assert error_text(CorpusConfig(path="nowhere"), tmp_path).startswith("corpus.path: not found:")


def test_empty_folder_and_empty_jsonl(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "the corpus is empty" in error_text(CorpusConfig(path="empty"), tmp_path)
    write(tmp_path / "empty.jsonl", "\n")
    assert "the corpus is empty" in error_text(CorpusConfig(path="empty.jsonl"), tmp_path)


def test_undecodable_file_is_named(tmp_path):
    write(tmp_path / "d" / "good.md", "fine")
    write(tmp_path / "d" / "bad.txt", b"caf\xe9 latin-1")
    text = error_text(CorpusConfig(path="d"), tmp_path)
    assert "corpus.path: 1 corpus file(s) cannot be used" in text
    assert f"{tmp_path / 'd' / 'bad.txt'}:1:4: not UTF-8 text (byte 0xe9" in text


def test_pdf_is_refused_with_a_hint(tmp_path):
    write(tmp_path / "d" / "manual.pdf", b"%PDF-1.4")
    text = error_text(CorpusConfig(path="d", include=["*.pdf"]), tmp_path)
    assert "manual.pdf: unsupported file type .pdf (convert PDFs to text first)" in text


def test_duplicate_ids(tmp_path):
    write(tmp_path / "c.jsonl", '{"id": "x", "text": "a"}\n{"id": "y", "text": "b"}\n{"_id": "x", "text": "c"}\n')
    text = error_text(CorpusConfig(path="c.jsonl"), tmp_path)
    assert "document ids must be unique" in text and "duplicate document id 'x'" in text


def test_malformed_jsonl_lines_are_located(tmp_path):
    write(tmp_path / "c.jsonl", '{"id": "a", "text": "ok"}\n{not json\n')
    text = error_text(CorpusConfig(path="c.jsonl"), tmp_path)
    assert f"{tmp_path / 'c.jsonl'}:2:2: not JSON (Expecting property name" in text
    write(tmp_path / "c.jsonl", '{"id": "a", "text": "ok"}\n[1]\n')
    assert f"{tmp_path / 'c.jsonl'}:2: not a JSON object (got list)" in error_text(CorpusConfig(path="c.jsonl"), tmp_path)
    # records that are JSON but not documents are all listed
    write(tmp_path / "c.jsonl", '{"id": "a", "text": "ok"}\n{"text": "no id"}\n{"id": "b", "text": 3}\n')
    text = error_text(CorpusConfig(path="c.jsonl"), tmp_path)
    assert f"{tmp_path / 'c.jsonl'}:2: missing 'id'" in text
    assert f"{tmp_path / 'c.jsonl'}:3: 'text' must be a string" in text


def test_format_mismatch(tmp_path):
    write(tmp_path / "c.jsonl", '{"id": "a", "text": "ok"}\n')
    assert "format is folder but" in error_text(CorpusConfig(path="c.jsonl", format="folder"), tmp_path)
