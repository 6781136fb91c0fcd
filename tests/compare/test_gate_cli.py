"""`harness gate`: exit codes, named regressions, noise, floors, set-up changes, step summary."""

import hashlib
import json
import re

import pytest

from harness.cli import main
from harness.compare.baseline import save
from harness.compare.synthetic import write_run

N = 60


def suite_file(tmp_path, gate, name="suite.yaml"):
    text = f"name: demo\nsystems: {{s: {{kind: prompt}}}}\ngate: {json.dumps(gate)}\n"
    path = tmp_path / name
    path.write_text(text)
    return {"name": "demo", "path": str(path), "content_hash": hashlib.sha256(text.encode()).hexdigest()}


def run_values(correct, latency=1.0, flips=()):
    """exact_match 1 for the first `correct` examples; `flips` toggles single examples."""
    out = {}
    for k in range(N):
        hit = k < correct
        if k in flips:
            hit = not hit
        out[f"e{k:03d}"] = {"exact_match": float(hit), "latency_s": latency + 0.01 * (k % 7)}
    return out


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def make(gate, base, new, *, systems_new=None, new_system_values=None):
        suite = suite_file(tmp_path, gate)
        base_run = write_run(tmp_path / "base", {"s": base, "t": base}, suite=suite, run_id="base")
        baseline = save(base_run, tmp_path / "baseline.json")
        new_run = write_run(
            tmp_path / "new",
            new_system_values or {"s": new, "t": base},
            suite=suite,
            systems=systems_new,
            run_id="new",
        )
        return str(new_run), str(baseline)

    return make


DROP_GATE = {"rules": [{"metric": "exact_match", "max_drop": 0.02}, {"metric": "latency_s", "max_increase": 0.25, "relative": True}]}


def test_identical_runs_pass(setup, capsys):
    run, baseline = setup(DROP_GATE, run_values(45), run_values(45))
    assert main(["gate", run, "--baseline", baseline]) == 0
    out = capsys.readouterr().out
    assert "Eval gate passed" in out and "FAIL" not in out


def test_planted_regression_fails_naming_system_and_metric(setup, capsys, tmp_path):
    run, baseline = setup(DROP_GATE, run_values(45), run_values(25))
    md = tmp_path / "gate.md"
    out_json = tmp_path / "gate.json"
    assert main(["gate", run, "--baseline", baseline, "--markdown", str(md), "--json", str(out_json)]) == 1
    captured = capsys.readouterr()
    assert "Eval gate failed: 1 regression(s)" in captured.out
    assert "`s` · `exact_match`: dropped by 0.3333" in captured.out
    assert "regression: s exact_match" in captured.err
    assert md.read_text() == captured.out
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "fail" and data["exit_code"] == 1
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert [(c["system"], c["metric"]) for c in failed] == [("s", "exact_match")]
    assert failed[0]["p_holm"] < 0.05


def test_drop_within_noise_passes_when_significance_is_required(setup, capsys):
    # three examples get worse, one better: a drop of 2/60, beyond max_drop 0.02 but within noise
    run, baseline = setup(DROP_GATE, run_values(45), run_values(45, flips={0, 1, 2, 50}))
    assert main(["gate", run, "--baseline", baseline]) == 0
    out = capsys.readouterr().out
    assert "Within noise" in out and "| noise | s | exact_match" in out


def test_same_drop_fails_without_significance(setup, capsys):
    gate = {"require_significance": False, "rules": [{"metric": "exact_match", "max_drop": 0.0}]}
    run, baseline = setup(gate, run_values(45), run_values(45, flips={0, 1, 50}))
    assert main(["gate", run, "--baseline", baseline]) == 1
    assert "significance not required" in capsys.readouterr().out


def test_per_rule_significance_override(setup):
    gate = {"rules": [{"metric": "exact_match", "max_drop": 0.0, "require_significance": False}]}
    run, baseline = setup(gate, run_values(45), run_values(45, flips={0, 1, 50}))
    assert main(["gate", run, "--baseline", baseline]) == 1


def test_floors_and_ceilings(setup, capsys):
    gate = {"rules": [{"metric": "exact_match", "system": "s", "min": 0.8}, {"metric": "latency_s", "max": 0.5}]}
    run, baseline = setup(gate, run_values(45), run_values(45))
    assert main(["gate", run, "--baseline", baseline]) == 1
    out = capsys.readouterr().out
    assert "`s` · `exact_match`: mean 0.75 below the floor 0.8" in out
    assert "`t` · `latency_s`: mean" in out and "above the ceiling 0.5" in out
    assert "`t` · `exact_match`" not in out  # the floor named system s only


def test_relative_increase_in_latency_fails(setup, capsys):
    run, baseline = setup(DROP_GATE, run_values(45), run_values(45, latency=1.5))
    assert main(["gate", run, "--baseline", baseline]) == 1
    assert "`s` · `latency_s`: rose by 0.5" in capsys.readouterr().out


def test_changed_config_blocks_with_exit_2_unless_allowed(setup, capsys):
    changed = {"s": {"kind": "prompt", "model": "scripted/echo", "prompt": {"template": "Q: {{input}}"}}}
    run, baseline = setup(DROP_GATE, run_values(45), run_values(25), systems_new=changed)
    assert main(["gate", run, "--baseline", baseline]) == 2
    captured = capsys.readouterr()
    assert "cannot compare" in captured.out and "system 's': config changed (prompt)" in captured.out
    assert "changed since the baseline" in captured.err
    assert main(["gate", run, "--baseline", baseline, "--allow-changed"]) == 1
    out = capsys.readouterr().out
    assert "compared anyway" in out and "(config changed)" in out


def test_examples_in_one_run_only_are_counted(setup, capsys):
    new = {k: v for k, v in run_values(45).items() if k not in {"e000", "e001", "e002"}}
    new["e999"] = {"exact_match": 1.0, "latency_s": 1.0}
    run, baseline = setup(DROP_GATE, run_values(45), None, new_system_values={"s": new, "t": run_values(45)})
    assert main(["gate", run, "--baseline", baseline]) == 0
    out = capsys.readouterr().out
    assert "s: 3 example(s) only in the baseline, 1 only in the run" in out
    assert "`s`: 3 example(s) only in base: `e000`, `e001`, `e002`" in out


def test_system_that_only_errors_fails(setup, capsys):
    gate = {"rules": [{"metric": "exact_match", "min": 0.1}]}
    errors = {k: {"exact_match": "error", "latency_s": "error"} for k in run_values(1)}
    run, baseline = setup(gate, run_values(45), None, new_system_values={"s": errors, "t": run_values(45)})
    assert main(["gate", run, "--baseline", baseline]) == 1
    assert "`s` · `exact_match`: no ok scores (60 errors)" in capsys.readouterr().out


def test_usage_errors_exit_2(setup, tmp_path, capsys):
    gate = {"rules": [{"metric": "faithfulness", "max_drop": 0.1}]}
    run, baseline = setup(gate, run_values(45), run_values(45))
    assert main(["gate", run, "--baseline", baseline]) == 2
    assert "matches no scored metric" in capsys.readouterr().err
    empty = tmp_path / "nogate.yaml"
    empty.write_text("name: demo\n")
    assert main(["gate", run, "--baseline", baseline, "--suite", str(empty)]) == 2
    assert "no `gate:` section" in capsys.readouterr().err
    assert main(["gate", run, "--baseline", str(tmp_path / "nope.json")]) == 2
    partial = write_run(tmp_path / "partial", {"s": run_values(45)}, status="interrupted")
    assert main(["gate", str(partial), "--baseline", baseline]) == 2
    assert "interrupted" in capsys.readouterr().err


def test_step_summary_is_appended(setup, tmp_path, monkeypatch, capsys):
    run, baseline = setup(DROP_GATE, run_values(45), run_values(25))
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["gate", run, "--baseline", baseline]) == 1
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "Eval gate failed" in text
    assert text.count("<!-- harness-eval-gate -->") == 1


def test_gate_markdown_is_well_formed(setup, capsys):
    run, baseline = setup(DROP_GATE, run_values(45), run_values(25))
    main(["gate", run, "--baseline", baseline])
    out = capsys.readouterr().out
    widths = []
    for block in re.split(r"\n(?!\|)", out):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            widths.append({len(re.split(r"(?<!\\)\|", r.strip())) - 2 for r in rows})
    assert len(widths) == 2 and all(len(w) == 1 for w in widths)
    assert out.count("<details>") == out.count("</details>") == 1
