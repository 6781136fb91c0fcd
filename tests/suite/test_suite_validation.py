"""Suite files are validated strictly, with every problem reported at its location."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import qa_rows, scripted_suite, write_suite
from harness.errors import SuiteError
from harness.suite.loader import load_suite, suite_json_schema


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return caught.value.problems


def test_all_errors_reported_together_with_locations(tmp_path: Path) -> None:
    suite = scripted_suite(qa_rows(2))
    suite["systems"]["cued"]["temperature"] = 0.2  # unknown key
    suite["systems"]["shots"] = {"kind": "few_shot", "k": 0}
    suite["systems"]["bad"] = {"kind": "no_such_kind"}
    suite["settings"] = {"concurrency": -1}
    suite["colour"] = "blue"
    problems = problems_of(write_suite(tmp_path, suite))
    assert "systems.cued.temperature: unknown key" in problems
    assert "systems.shots.k: input should be greater than 0" in problems
    assert any(p.startswith("systems.bad.kind: unknown system kind 'no_such_kind'") and "few_shot" in p for p in problems)
    assert "settings.concurrency: input should be greater than 0" in problems
    assert "colour: unknown key" in problems
    assert len(problems) == 5


def test_missing_required_fields_and_metric_errors(tmp_path: Path) -> None:
    path = write_suite(tmp_path, {"name": "x", "systems": {"a": {"kind": "prompt"}}, "metrics": ["nope", {"type": "exact_match", "mode": "fuzzy"}]})
    problems = problems_of(path)
    assert "dataset: required" in problems
    assert "systems.a.model: required" in problems
    assert any(p.startswith("metrics[0].type: unknown metric type 'nope'") for p in problems)
    assert any(p.startswith("metrics[1].mode: input should be 'exact' or 'contains'") for p in problems)


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsystems:\n  a: {kind: prompt\n")
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert "malformed YAML" in str(caught.value)
    assert f"{path}:" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="suite file not found"):
        load_suite(tmp_path / "absent.yaml")


def test_defaults_model_override_and_sweep(tmp_path: Path) -> None:
    suite = scripted_suite(qa_rows(2))
    suite["defaults"]["params"] = {"max_tokens": 32}
    suite["systems"]["cued"]["params"] = {"temperature": 0.5}
    suite["systems"]["shots"] = {"kind": "few_shot", "sweep": {"k": [1, 2], "selection": ["fixed", "random"]}}
    loaded = load_suite(write_suite(tmp_path, suite))
    assert loaded.systems["plain"].model == "scripted/adder"
    assert loaded.systems["echo"].model == "scripted/echo"
    assert loaded.systems["cued"].params.max_tokens == 32 and loaded.systems["cued"].params.temperature == 0.5
    assert [n for n in loaded.systems if n.startswith("shots")] == [
        "shots[k=1,selection=fixed]", "shots[k=1,selection=random]", "shots[k=2,selection=fixed]", "shots[k=2,selection=random]",
    ]
    assert loaded.systems["shots[k=2,selection=random]"].k == 2
    overridden = load_suite(tmp_path / "suite.yaml", model="openai/gpt-4o-mini")
    assert {c.model for c in overridden.systems.values() if hasattr(c, "model")} == {"openai/gpt-4o-mini"}


def test_relative_paths_resolve_against_suite_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "schema.json").write_text(json.dumps({"type": "object"}))
    suite = scripted_suite(qa_rows(2), answer_format={"schema": "schema.json"})
    path = write_suite(tmp_path / "sub", suite)
    loaded = load_suite(path)
    assert loaded.answer_format.json_schema == {"type": "object"}
    assert loaded.resolve("data.jsonl") == (tmp_path / "sub" / "data.jsonl").resolve()


def test_json_schema_lists_every_kind() -> None:
    schema = suite_json_schema()
    text = json.dumps(schema)
    for kind in ("prompt", "few_shot", "replay", "custom"):
        assert f'"const": "{kind}"' in text or f'"{kind}"' in text
    assert schema["additionalProperties"] is False


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_validate_and_schema_commands(tmp_path: Path) -> None:
    good = write_suite(tmp_path, scripted_suite(qa_rows(3) + qa_rows(2, split="train", prefix="t")))
    done = run_cli("validate", str(good))
    assert done.returncode == 0, done.stderr
    assert "3 systems" in done.stdout and "3 test and 2 train" in done.stdout
    bad = write_suite(tmp_path, {"name": "x", "systems": {}}, name="bad.yaml")
    done = run_cli("validate", str(bad))
    assert done.returncode == 2
    assert "dataset: required" in done.stderr and "systems: " in done.stderr
    done = run_cli("schema")
    assert done.returncode == 0 and json.loads(done.stdout)["title"] == "Harness suite file"


def test_retrieval_blocks_are_checked_at_validation(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("# A\nSome text.")
    suite = scripted_suite(qa_rows(2), corpus={"path": "corpus"}, retrieval={"main": {"retriever": "bm25", "top_k": 2}})
    suite["systems"]["rag"] = {"kind": "rag", "retrieval": "nope"}
    problems = problems_of(write_suite(tmp_path, suite))
    assert any(p.startswith("systems.rag.retrieval: no retrieval block named 'nope'") for p in problems)
    suite["systems"]["rag"] = {"kind": "rag", "retrieval": "main", "sweep": {"retrieval.top_k": [1, 3]}}
    loaded = load_suite(write_suite(tmp_path, suite))
    assert loaded.systems["rag[top_k=3]"].retrieval.top_k == 3
