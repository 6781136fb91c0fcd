"""Gate evaluation on in-memory score sets: one-sided Holm family, direction-aware globs."""

import pytest

from harness.suite.gate import GateConfig
from harness.compare.gate import evaluate
from harness.compare.synthetic import score_set
from harness.errors import HarnessError

IDS = [f"e{i}" for i in range(20)]


def metric(worse: int, higher_is_better: bool = True) -> tuple[dict, dict]:
    """Baseline/run values where `worse` examples got worse by 1 and the rest did not change."""
    base = {i: 1.0 if higher_is_better else 0.0 for i in IDS}
    step = -1.0 if higher_is_better else 1.0
    new = {i: base[i] + (step if k < worse else 0.0) for k, i in enumerate(IDS)}
    return base, new


def sets(**metrics):
    base = {"s": {name: pair[0] for name, pair in metrics.items()}}
    new = {"s": {name: pair[1] for name, pair in metrics.items()}}
    return score_set(base), score_set(new, run_id="new")


def gate(rules, **extra):
    return GateConfig.model_validate({"rules": rules, **extra})


def test_one_sided_test_catches_five_of_five_worse():
    # exact: two-sided p = 2/32 = 0.0625 (would pass), one-sided p = 1/32 = 0.031 < 0.05
    base, new = sets(exact_match=metric(5))
    result = evaluate(gate([{"metric": "exact_match", "max_drop": 0.0}]), base, new)
    assert result.comparison.row("s", "exact_match").p_value == pytest.approx(0.0625)
    [check] = result.checks
    assert check.status == "fail" and check.p_holm == pytest.approx(1 / 32)


def test_holm_family_spans_every_metric_the_delta_rules_test():
    # the same 1/32 in three metrics: Holm multiplies the smallest by 3 -> 0.094, not significant
    base, new = sets(a=metric(5), b=metric(5), c=metric(5))
    result = evaluate(gate([{"metric": "*", "max_drop": 0.0}]), base, new)
    assert [c.status for c in result.checks] == ["noise"] * 3
    assert all(c.p_holm == pytest.approx(3 / 32) for c in result.checks)
    assert result.exit_code == 0
    # floors do not join the family
    result = evaluate(gate([{"metric": "a", "max_drop": 0.0}, {"metric": "*", "min": 0.0}]), base, new)
    assert result.checks[0].status == "fail" and result.checks[0].p_holm == pytest.approx(1 / 32)


def test_glob_delta_rules_follow_each_metrics_direction():
    base, new = sets(exact_match=metric(0), latency_s=metric(10, higher_is_better=False))
    rules = [{"metric": "*", "max_drop": 0.0}, {"metric": "*", "max_increase": 0.1}]
    result = evaluate(gate(rules), base, new)
    kinds = {(c.metric, c.kind): c.status for c in result.checks}
    assert kinds == {("exact_match", "max_drop"): "pass", ("latency_s", "max_increase"): "fail"}
    # a latency *drop* is an improvement: max_drop on "*" never looks at it
    base, new = sets(exact_match=metric(0), latency_s=(metric(10, False)[1], metric(10, False)[0]))
    assert evaluate(gate(rules), base, new).exit_code == 0


def test_rule_that_can_check_nothing_is_a_usage_error():
    base, new = sets(latency_s=metric(0, higher_is_better=False))
    with pytest.raises(HarnessError, match=r"gate.rules\[0\].*max_drop checks higher-is-better"):
        evaluate(gate([{"metric": "*latency*", "max_drop": 0.1}]), base, new)
    with pytest.raises(HarnessError, match="matches no scored metric"):
        evaluate(gate([{"metric": "latency_s", "system": "other", "max": 1}]), base, new)


def test_new_system_gets_floors_but_no_baseline_checks():
    base = score_set({"s": {"exact_match": metric(0)[0]}})
    new = score_set({"s": {"exact_match": metric(0)[0]}, "t": {"exact_match": metric(0)[1]}}, run_id="new")
    result = evaluate(gate([{"metric": "exact_match", "min": 0.5, "max_drop": 0.0}]), base, new)
    statuses = {(c.system, c.kind): c.status for c in result.checks}
    assert statuses[("t", "min")] == "pass" and statuses[("t", "max_drop")] == "skip"
    assert "systems not in the baseline (floors only): t" in result.notes
