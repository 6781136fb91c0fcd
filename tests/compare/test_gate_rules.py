"""The typed `gate:` section: strict validation, direction sanity, and the suite model using it."""

import pytest
from pydantic import ValidationError

from harness.suite.gate import GateConfig, GateRule
from harness.compare.gate import load_gate_config
from harness.errors import HarnessError


def test_full_shape_validates():
    config = GateConfig.model_validate(
        {
            "alpha": 0.01,
            "require_significance": False,
            "rules": [
                {"metric": "exact_match", "system": "*", "min": 0.5},
                {"metric": "faithfulness", "max_drop": 0.05},
                {"metric": "latency_s", "system": "rag*", "max_increase": 0.5, "relative": True, "max": 3},
                {"metric": "*_latency_s", "max_increase": 1.0, "require_significance": True},
            ],
        }
    )
    assert config.alpha == 0.01 and config.permutations == 10_000
    assert [r.label() for r in config.rules] == ["min 0.5", "max_drop 0.05", "max 3, max_increase 50%", "max_increase 1"]
    assert config.rules[1].system == "*" and config.rules[1].compares_to_baseline
    assert not config.rules[0].compares_to_baseline


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"metric": "exact_match"}, "at least one of"),
        ({"metric": "exact_match", "min": 0.5, "floor": 1}, "Extra inputs"),
        ({"metric": "exact_match", "min": 0.9, "max": 0.1}, "above max"),
        ({"metric": "exact_match", "max_drop": -0.1}, "greater than or equal"),
        ({"metric": "latency_s", "max_drop": 0.1}, "use max_increase"),
        ({"metric": "faithfulness", "max_increase": 0.1}, "use max_drop"),
        ({"metric": "exact_match", "min": 0.1, "relative": True}, "relative applies"),
    ],
)
def test_bad_rules_are_rejected(rule, message):
    with pytest.raises(ValidationError, match=message):
        GateRule.model_validate(rule)


def test_gate_needs_rules_and_a_sane_alpha():
    with pytest.raises(ValidationError):
        GateConfig.model_validate({"rules": []})
    with pytest.raises(ValidationError):
        GateConfig.model_validate({"alpha": 1.5, "rules": [{"metric": "m", "min": 0}]})


def test_load_gate_config_reports_locations(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: x\ngate:\n  alpah: 0.1\n  rules:\n    - {metric: latency_s, max_drop: 0.1}\n")
    with pytest.raises(HarnessError) as info:
        load_gate_config(suite)
    text = str(info.value)
    assert "gate.alpah: Extra inputs are not permitted" in text
    assert "gate.rules[0]: latency_s is lower-is-better" in text
    suite.write_text("name: x\n")
    with pytest.raises(HarnessError, match="no `gate:` section"):
        load_gate_config(suite)
    with pytest.raises(HarnessError, match="cannot read"):
        load_gate_config(tmp_path / "missing.yaml")


def test_suite_model_types_the_gate_section(tmp_path):
    from harness.suite.loader import load_suite

    base = (
        "name: g\ndataset: {inline: [{id: a, input: hi, reference: hi}]}\n"
        "systems: {s: {kind: prompt, model: scripted/echo}}\nmetrics: [exact_match]\n"
    )
    good = tmp_path / "good.yaml"
    good.write_text(base + "gate: {alpha: 0.1, rules: [{metric: exact_match, max_drop: 0.05}]}\n")
    suite = load_suite(good)
    assert isinstance(suite.gate, GateConfig) and suite.gate.rules[0].max_drop == 0.05
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "gate: {rules: [{metric: exact_match, max_dorp: 0.05}]}\n")
    with pytest.raises(HarnessError, match="max_dorp"):
        load_suite(bad)
