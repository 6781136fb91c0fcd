"""Baseline files: round trip, default path, schema checks, and named set-up changes."""

import hashlib
import json

import pytest

from harness.cli import main
from harness.compare.baseline import load, save
from harness.compare.changes import detect
from harness.compare.compare import compare
from harness.compare.synthetic import write_run
from harness.errors import HarnessError

SUITE_TEXT = "name: {name}\ndescription: {description}\nsystems: {{s: {{kind: prompt, model: scripted/echo}}}}\n{extra}"


def write_suite(path, name="demo", description="x", gate="", extra=""):
    text = SUITE_TEXT.format(name=name, description=description, extra=gate + extra)
    path.write_text(text)
    return {"name": name, "path": str(path), "content_hash": hashlib.sha256(text.encode()).hexdigest()}


def values(n=20, correct=15):
    return {"s": {f"e{i:02d}": {"exact_match": float(i < correct), "latency_s": 0.1 * i} for i in range(n)}}


def test_save_and_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path / "suite.yaml")
    run = write_run(tmp_path / "run", values(), suite=suite, run_id="abc123")
    path = save(run)
    assert path == tmp_path.joinpath("results", "baselines", "demo.json").relative_to(tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == "harness-baseline" and data["schema_version"] == 1
    assert data["suite"]["name"] == "demo" and data["suite"]["content_hash"] == suite["content_hash"]
    assert data["suite"]["path"] == "suite.yaml"  # relative: no local home folder in a committed file
    assert data["run"]["run_id"] == "abc123" and data["created_at"]
    assert data["systems"]["s"]["config"] == {"kind": "prompt", "model": "scripted/echo"}
    assert data["systems"]["s"]["scores"]["exact_match"]["e03"] == 1.0
    assert "git" in data
    from_file, from_dir = load(path), load(run)
    assert from_file.scores == from_dir.scores and from_file.systems == from_dir.systems
    assert from_file.examples == from_dir.examples and from_file.seen == from_dir.seen
    assert not detect(from_file, from_dir)
    assert all(r.delta == 0 for r in compare(from_file, from_dir).rows)


def test_baseline_cli_save_with_out(tmp_path, capsys):
    run = write_run(tmp_path / "run", values())
    out = tmp_path / "b" / "x.json"
    assert main(["baseline", "save", str(run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert load(out).scores["s"]["exact_match"]["e00"] == 1.0


def test_incomplete_run_is_refused(tmp_path, capsys):
    run = write_run(tmp_path / "run", values(), status="interrupted")
    with pytest.raises(HarnessError, match="interrupted"):
        save(run, tmp_path / "b.json")
    assert main(["baseline", "save", str(run), "--out", str(tmp_path / "b.json")]) == 2


def test_unknown_schema_version_is_refused(tmp_path):
    run = write_run(tmp_path / "run", values())
    path = save(run, tmp_path / "b.json")
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(HarnessError, match="schema version 99"):
        load(path)


def test_changed_system_config_is_named_with_keys(tmp_path):
    base = write_run(tmp_path / "a", values(), systems={"s": {"kind": "prompt", "prompt": {"template": "{{input}}"}}})
    new = write_run(tmp_path / "b", values(), systems={"s": {"kind": "prompt", "prompt": {"template": "Q: {{input}}"}}})
    changes = detect(load(save(base, tmp_path / "b.json")), load(new))
    assert [(c.what, c.name) for c in changes] == [("system", "s")]
    assert "prompt.template" in str(changes[0]) and "'s'" in str(changes[0])
    assert compare(load(base), load(new)).rows[0].config_changed


def test_changed_suite_is_detected_but_gate_only_edits_are_not(tmp_path):
    path = tmp_path / "suite.yaml"
    suite_a = write_suite(path, gate="gate: {rules: [{metric: exact_match, min: 0.1}]}\n")
    base = load(save(write_run(tmp_path / "a", values(), suite=suite_a), tmp_path / "base.json"))
    suite_b = write_suite(path, description="edited", gate="gate: {rules: [{metric: exact_match, min: 0.5}]}\n")
    assert suite_b["content_hash"] != suite_a["content_hash"]
    assert detect(base, load(write_run(tmp_path / "b", values(), suite=suite_b))) == []
    suite_c = write_suite(path, extra="settings: {seed: 3}\n")
    changes = detect(base, load(write_run(tmp_path / "c", values(), suite=suite_c)))
    assert [c.what for c in changes] == ["suite"] and "suite file changed" in str(changes[0])


def test_edited_example_is_detected_and_not_paired(tmp_path):
    base = write_run(tmp_path / "a", values())
    new = write_run(tmp_path / "b", values(), references={"e01": "a different answer"})
    result = compare(load(base), load(new))
    assert [c.what for c in result.changes] == ["examples"] and "e01" in str(result.changes[0])
    assert result.row("s", "exact_match").n_paired == 19
    assert result.coverage[0].edited == ["e01"]
