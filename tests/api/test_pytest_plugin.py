"""The pytest plug-in: light to import, a SuiteRun to assert on, and the fixture in a real session."""

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest

from harness.compare.synthetic import write_run
from harness.pytest_plugin import SuiteRun, assert_ceiling, assert_floor, load_run

pytest_plugins = ["pytester"]


def test_importing_the_plugin_loads_nothing_heavy():
    code = (
        "import sys, harness.pytest_plugin; "
        "print(sorted(m for m in ('numpy', 'yaml', 'pydantic', 'litellm', 'harness.engine.launch', 'harness.run.scores') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.fixture
def run(tmp_path):
    values = {
        "good": {f"e{i}": {"exact_match": 1.0, "latency_s": 0.2, "recall@5": None} for i in range(10)},
        "bad": {f"e{i}": {"exact_match": float(i < 3), "latency_s": 2.0, "recall@5": None} for i in range(10)},
    }
    return load_run(write_run(tmp_path / "run", values))


def test_suite_run_means_and_counts(run):
    assert isinstance(run, SuiteRun) and run.status == "complete"
    assert run.systems == ["good", "bad"]
    assert run.mean("good", "exact_match") == 1.0
    assert run.mean("bad", "exact_match") == pytest.approx(0.3)
    assert run.mean("bad", "recall@5") is None
    assert run.counts("bad", "recall@5") == {"ok": 0, "undefined": 10, "error": 0}
    assert len(run.values("good", "latency_s")) == 10
    with pytest.raises(KeyError, match="no system 'nope'"):
        run.mean("nope", "exact_match")
    with pytest.raises(KeyError, match="no metric 'faithfulness'"):
        run.mean("good", "faithfulness")


def test_assert_floor_and_ceiling_name_the_failing_systems(run):
    run.assert_floor("exact_match", 0.9, system="good")
    assert_floor(run, "exact_match", 0.3)
    with pytest.raises(AssertionError, match=r"exact_match below the floor 0.5: bad: 0.3 \(n=10\)"):
        assert_floor(run, "exact_match", 0.5)
    assert_ceiling(run, "latency_s", 2.0)
    with pytest.raises(AssertionError, match="latency_s above the ceiling 1: bad: 2"):
        assert_ceiling(run, "latency_s", 1.0)
    with pytest.raises(AssertionError, match="no system matching 'x\\*'"):
        assert_floor(run, "exact_match", 0.1, system="x*")


SUITE = """
name: plugin
dataset:
  inline:
{rows}
scripted_models:
  repeat: {{rules: [{{match: 'repeat the number (\\d+)', output: '\\1'}}]}}
systems:
  good: {{kind: prompt, model: scripted/repeat}}
  bad: {{kind: prompt, model: scripted/echo}}
metrics: [exact_match]
"""

PROJECT_TEST = """
from harness.pytest_plugin import assert_floor

def test_quality(harness_run):
    run = harness_run("suite.yaml", limit=5)
    assert run.mean("good", "exact_match") == 1.0
    assert_floor(run, "exact_match", 0.9, system="good")
    assert harness_run("suite.yaml", limit=5) is run  # one run per session

def test_floor_for_every_system(harness_run):
    harness_run("suite.yaml", limit=5).assert_floor("exact_match", 0.5)
"""


def test_fixture_in_a_pytest_session(pytester):
    rows = "\n".join(f"    - {{id: q{i}, input: repeat the number {i}, reference: '{i}'}}" for i in range(8))
    pytester.makefile(".yaml", suite=SUITE.format(rows=rows))
    pytester.makepyfile(test_project=textwrap.dedent(PROJECT_TEST))
    registered = any(e.value == "harness.pytest_plugin" for e in entry_points(group="pytest11"))
    args = [] if registered else ["-p", "harness.pytest_plugin"]
    result = pytester.runpytest(*args, "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*exact_match below the floor 0.5: bad: 0 (n=5)*"])
