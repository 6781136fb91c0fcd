"""The example CI workflow stays consistent with the CLI it calls."""

from pathlib import Path

import yaml

from harness.compare.render import MARKER

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "eval-gate.yml"


def test_workflow_runs_the_suite_gates_and_comments():
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in flow[True]  # YAML 1.1 reads the `on:` key as True
    assert "HARNESS_CACHE_DIR" in flow["env"]
    steps = flow["jobs"]["eval"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    assert any(u.startswith("actions/cache/save@") for u in uses)
    assert any(u.startswith("actions/github-script@") for u in uses)
    scripts = "\n".join(s.get("run", "") for s in steps)
    assert "harness run" in scripts and "harness gate" in scripts and "--baseline" in scripts
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script@"))
    assert MARKER in comment["with"]["script"]
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    assert save["if"] == "always()"


def _run_step(tmp_path: Path, exit_code: int) -> tuple[int, str]:
    """Run the workflow's `Run the suite` script with a stand-in `harness` that exits `exit_code`."""
    import os
    import subprocess

    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["eval"]["steps"]
    script = next(s for s in steps if s.get("name") == "Run the suite")["run"]
    script = script.replace("${{ github.run_id }}", "42")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "harness"
    fake.write_text(f"#!/usr/bin/env bash\necho 'a table'\necho results/runs/pr-42\nexit {exit_code}\n")
    fake.chmod(0o755)
    output = tmp_path / f"out{exit_code}"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output), "SUITE": "s.yaml"}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    return done.returncode, output.read_text() if output.exists() else ""


def test_an_unusable_run_is_gated_then_fails_the_job(tmp_path):
    code, outputs = _run_step(tmp_path, 3)
    assert code == 0 and "code=3" in outputs and "dir=results/runs/pr-42" in outputs
    assert _run_step(tmp_path, 0)[0] == 0
    assert _run_step(tmp_path, 2)[0] == 2  # bad input: nothing to gate
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["eval"]["steps"]
    last = steps[-1]
    assert "steps.run.outputs.code != '0'" in last["if"] and "steps.gate.outputs.code != '0'" in last["if"]
