"""Datasets from every supported source, mapped onto Example fields, with clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import write_jsonl
from harness.data.datasets import load_dataset
from harness.errors import DatasetError
from harness.suite.loader import parse_suite

SYSTEMS = {"a": {"kind": "prompt", "model": "scripted/echo"}}


def dataset_of(tmp_path: Path, dataset: dict) -> object:
    return load_dataset(parse_suite({"name": "d", "dataset": dataset, "systems": SYSTEMS}, base_dir=tmp_path))


ROWS = [
    {"qid": "1", "question": "Q one", "answer": "A1", "docs": ["d1", "d2"], "labels": ["fact"], "part": "test", "extra": 7},
    {"qid": "2", "question": "Q two", "answer": "A2", "docs": [], "labels": [], "part": "train", "extra": 8},
    {"qid": "3", "question": "Q three", "answer": "A3", "docs": ["d3"], "labels": ["fact", "hard"], "part": "test", "extra": 9},
]
FIELDS = {"id": "qid", "input": "question", "reference": "answer", "reference_doc_ids": "docs", "tags": "labels", "split": "part"}


def check(data: object) -> None:
    assert [e.id for e in data.test] == ["1", "3"]
    assert [e.id for e in data.train] == ["2"]
    first = data.test[0]
    assert (first.input, first.reference, first.reference_doc_ids, first.tags) == ("Q one", "A1", ["d1", "d2"], ["fact"])
    assert str(first.metadata["extra"]) == "7"


def test_jsonl_with_field_mapping(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data.jsonl", ROWS)
    check(dataset_of(tmp_path, {"path": "data.jsonl", "fields": FIELDS}))


def test_csv_lists_in_cells(tmp_path: Path) -> None:
    with (tmp_path / "data.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        for row in ROWS:
            writer.writerow({**row, "docs": ";".join(row["docs"]), "labels": json.dumps(row["labels"])})
    check(dataset_of(tmp_path, {"path": "data.csv", "fields": FIELDS}))


def test_parquet(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame(ROWS).to_parquet(tmp_path / "data.parquet")
    check(dataset_of(tmp_path, {"path": "data.parquet", "fields": FIELDS}))


def test_saved_datasets_folder(tmp_path: Path) -> None:
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    check(dataset_of(tmp_path, {"path": "saved", "fields": FIELDS}))


def test_inline_and_separate_train_source(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", [{"input": "t1", "reference": "r"}, {"input": "t2", "reference": "r"}])
    data = dataset_of(tmp_path, {"inline": [{"id": "x", "input": "hello"}], "train": {"path": "train.jsonl"}})
    assert [e.id for e in data.test] == ["x"]
    assert [e.input for e in data.train] == ["t1", "t2"] and all(e.split == "train" for e in data.train)


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        dataset_of(tmp_path, {"inline": [{"id": "a", "input": "x"}, {"id": "a", "input": "y"}, {"id": "a", "input": "z", "split": "train"}]})
    # the second row is named, with the first; the same id in another split is allowed
    assert caught.value.problems == ["dataset.inline[1]: duplicate id 'a' in the 'test' split (first at dataset.inline[0])"]


def test_empty_test_split_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no examples in the 'test' split \\(splits found: train\\)"):
        dataset_of(tmp_path, {"inline": [{"input": "x", "split": "train"}]})


def test_bad_rows_are_located(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"input": "ok"}\n{"input": \n')
    with pytest.raises(DatasetError) as caught:
        dataset_of(tmp_path, {"path": "data.jsonl"})
    assert f"{tmp_path / 'data.jsonl'}:2:" in str(caught.value) and "not JSON" in str(caught.value)
    write_jsonl(tmp_path / "data.jsonl", [{"question": "no input column"}])
    with pytest.raises(DatasetError) as caught:
        dataset_of(tmp_path, {"path": "data.jsonl"})
    assert "data.jsonl:1: no 'input' value" in str(caught.value)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file not found"):
        dataset_of(tmp_path, {"path": "absent.jsonl"})
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(DatasetError, match="set format"):
        dataset_of(tmp_path, {"path": "data.txt"})


def test_hub_dataset_offline_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DatasetError) as caught:
        dataset_of(tmp_path, {"hf": "nobody/no-such-dataset-for-tests"})
    assert "cannot load Hugging Face dataset 'nobody/no-such-dataset-for-tests'" in str(caught.value)
    assert caught.value.where == "dataset.hf"


def test_generated_ids_and_limit(tmp_path: Path) -> None:
    data = dataset_of(tmp_path, {"inline": [{"input": "a"}, {"input": "b"}, {"input": "c"}], "limit": 2})
    assert [e.id for e in data.test] == ["dataset-0", "dataset-1"]


def test_fields_left_at_their_default_are_not_stored_but_read_the_same(tmp_path: Path) -> None:
    """Only given values are passed to Example (it is smaller); falsy values are still given."""
    from harness.types import Example

    rows = [{"id": "a", "input": "x"},
            {"id": "b", "input": "y", "reference": "", "reference_json": [], "answerable": False, "tags": []}]
    data = dataset_of(tmp_path, {"inline": rows, "fields": {"reference_json": "reference_json", "answerable": "answerable"}})
    plain, falsy = data.test
    assert plain.model_fields_set == {"id", "input", "split"}
    assert plain == Example(id="a", input="x", split="test")
    assert (falsy.reference, falsy.reference_json, falsy.answerable, falsy.tags) == ("", [], False, [])
    assert falsy.model_dump() == Example(id="b", input="y", reference="", reference_json=[], answerable=False).model_dump()


def test_an_empty_jsonl_file_is_an_error_and_the_hash_is_of_every_example(tmp_path: Path) -> None:
    """JSONL rows are converted as they are read: an empty file still says so, and the content
    hash is the same digest as of the examples' JSON joined by newlines."""
    import hashlib

    (tmp_path / "data.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="holds no rows"):
        dataset_of(tmp_path, {"path": "data.jsonl"})
    write_jsonl(tmp_path / "data.jsonl", ROWS)
    data = dataset_of(tmp_path, {"path": "data.jsonl", "fields": FIELDS})
    joined = "\n".join(e.model_dump_json(exclude={"answerable"}) for e in [*data.test, *data.train])
    assert data.content_hash() == hashlib.sha256(joined.encode()).hexdigest()
