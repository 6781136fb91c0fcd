"""examples/pubmedqa: the preparation script and the suite (no model run; the data may be absent)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from harness.data.datasets import load_dataset
from harness.suite.loader import load_suite

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pubmedqa"
spec = importlib.util.spec_from_file_location("pubmedqa_prepare", EXAMPLE / "prepare.py")
prepare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prepare)
needs_data = pytest.mark.skipif(not (prepare.DEFAULT_DATA / "queries_test.jsonl").is_file(),
                                reason=f"PubMedQA data not at {prepare.DEFAULT_DATA}")


def test_absent_data_is_skipped_cleanly(tmp_path, capsys):
    assert prepare.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 0
    assert "skipping the PubMedQA example" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@needs_data
def test_prepared_data_loads_as_the_suite_says(tmp_path):
    shutil.copy(EXAMPLE / "suite.yaml", tmp_path / "suite.yaml")
    assert prepare.main(["--out", str(tmp_path / "data"), "--test", "30", "--train", "20"]) == 0
    suite = load_suite(tmp_path / "suite.yaml")
    dataset = load_dataset(suite)
    assert len(dataset.test) == 30 and len(dataset.train) == 20
    assert not {e.id for e in dataset.test} & {e.id for e in dataset.train}
    example = dataset.test[0]
    assert example.reference in ("yes", "no", "maybe") and example.reference_json == {"answer": example.reference}
    assert example.reference_doc_ids == [example.id] and example.tags == [example.reference]
    assert set(suite.systems) == {"prompt", "rag", "finetuned", "hybrid"}
