"""Power: the MDE formula, the n needed for 0.05, and the gate's power statement for its rules."""

from __future__ import annotations

import math

import pytest

from harness.stats.power import factor, mde, n_needed, paired_sd, power_of


def test_the_factor_is_z_alpha_plus_z_power():
    assert factor() == pytest.approx(1.959964 + 0.841621, abs=1e-5)  # two-sided 0.05, 80% power
    assert factor(sides=1) == pytest.approx(1.644854 + 0.841621, abs=1e-5)
    assert factor(alpha=0.01, power=0.9) == pytest.approx(2.575829 + 1.281552, abs=1e-5)
    with pytest.raises(ValueError):
        factor(alpha=1.5)


def test_mde_and_n_needed_follow_the_normal_approximation():
    assert mde(0.5, 100) == pytest.approx(2.801585 * 0.5 / 10, abs=1e-5)
    assert mde(0.5, 1) is None
    # n = ceil((2.8016 x 0.5 / 0.05)^2) = ceil(784.9) = 785
    assert n_needed(0.5, 0.05) == 785
    assert n_needed(0.0, 0.05) is None
    assert mde(0.5, n_needed(0.5, 0.05)) <= 0.05 < mde(0.5, n_needed(0.5, 0.05) - 1)


def test_power_of_paired_differences():
    diffs = [1.0, 0.0] * 26  # n=52, sd = 0.5049
    power = power_of(diffs)
    assert power.n == 52 and power.sd == pytest.approx(math.sqrt(0.25 * 52 / 51))
    assert power.mde == pytest.approx(2.801585 * power.sd / math.sqrt(52), abs=1e-5)
    assert power.n_for_target == math.ceil((2.801585 * power.sd / 0.05) ** 2)
    constant = power_of([0.25] * 10)
    assert constant.sd == 0 and constant.mde is None and constant.n_for_target is None
    assert paired_sd([1.0]) is None


def test_the_gate_report_states_what_its_rules_can_detect(tmp_path):
    from harness.compare.gate import evaluate
    from harness.compare.render import gate_markdown, power_lines
    from harness.run.scores import ScoreSet
    from harness.suite.gate import GateConfig

    def scores(values: list[float]) -> ScoreSet:
        s = ScoreSet(source="x", kind="run", run_id="r", status="complete", suite={"name": "s"}, systems={"rag": {}})
        for i, v in enumerate(values):
            s.add("rag", f"q{i}", {"contains_answer": {"status": "ok", "value": v}})
        s.seen = {"rag": [f"q{i}" for i in range(len(values))]}
        return s

    base = scores([1.0] * 40)
    new = scores([1.0] * 36 + [0.0] * 4)
    config = GateConfig.model_validate({"rules": [{"metric": "contains_answer", "max_drop": 0.02}]})
    result = evaluate(config, base, new)
    lines = power_lines(result)
    sd = math.sqrt(0.1 * 0.9 * 40 / 39)
    smallest = (1.644854 + 0.841621) * sd / math.sqrt(40)
    assert len(lines) == 1 and f"detects a drop of ≥ {smallest:.4g}" in lines[0]
    assert "would often pass unnoticed" in lines[0] and "n = 40" in lines[0]
    assert "**Power** (what these rules can see):" in gate_markdown(result)
