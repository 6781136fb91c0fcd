"""The example CI workflow stays consistent with the CLI it calls."""

from pathlib import Path

import yaml

from harness.compare.render import MARKER

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "eval-gate.yml"


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
