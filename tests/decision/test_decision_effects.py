"""Effects and their words: the CI decides the verdict; a straddling CI never says "better"."""

from __future__ import annotations

import random

import pytest

from tests.decision_runs import binary_run
from harness.decision import analyse
from harness.decision.effects import MIN_PAIRED, describe, verdict
from harness.decision.model import Effect


def test_verdict_follows_the_ci_only():
    assert verdict(52, 0.01, 0.2) == "better"
    assert verdict(52, -0.2, -0.01) == "worse"
    assert verdict(52, -0.06, 0.10) == "no_difference"
    assert verdict(52, 0.0, 0.3) == "no_difference"  # touching 0 is not excluding it
    assert verdict(52, -0.2, -0.01, higher_is_better=False) == "better"  # e.g. latency went down
    assert verdict(MIN_PAIRED - 1, 0.5, 0.9) == "too_few"
    assert verdict(0, None, None) == "not_measured"


def test_a_straddling_ci_never_produces_better_whatever_the_point_estimate():
    rng = random.Random(7)
    for _ in range(500):
        low = rng.uniform(-0.5, 0.0)
        high = rng.uniform(0.0, 0.5)
        n = rng.randint(MIN_PAIRED, 500)
        effect = Effect(key=rng.choice(["retrieval", "fine_tuning", "combining", "few_shot", "interaction"]),
                        label="x", formula="a − b", systems={}, metric="m", n=n, delta=rng.uniform(-0.5, 0.5),
                        ci_low=low, ci_high=high, higher_is_better=rng.random() < 0.5)
        effect.verdict = verdict(n, low, high, effect.higher_is_better)
        text = describe(effect, 0.95)
        assert effect.verdict == "no_difference"
        assert "better" not in text and "worse" not in text and "synergy" not in text and "overlap:" not in text
        assert text.startswith("no detectable")


def test_words_carry_n_delta_and_the_ci():
    effect = Effect(key="retrieval", label="retrieval", formula="rag − base", systems={}, metric="m", n=52,
                    delta=0.02, ci_low=-0.06, ci_high=0.10, verdict="no_difference")
    assert describe(effect, 0.95) == "no detectable difference (n=52, Δ +0.020, 95% CI [−0.060, +0.100])"
    effect = effect.model_copy(update={"delta": 0.5, "ci_low": 0.36, "ci_high": 0.63, "verdict": "better"})
    assert describe(effect, 0.95) == "better by 0.500 (higher; n=52, Δ +0.500, 95% CI [+0.360, +0.630])"


@pytest.fixture
def factorial(tmp_path):
    """40 examples: retrieval fixes the facts, fine-tuning the format, the hybrid gets both."""
    n = 40
    correct = {"base": [0] * n, "rag": [1] * 30 + [0] * 10, "finetuned": [0] * 36 + [1] * 4,
               "hybrid": [1] * 31 + [0] * 9, "few_shot": [0, 1] * 20}
    fmt = {"base": [0] * n, "rag": [0] * 35 + [1] * 5, "finetuned": [1] * n, "hybrid": [1] * n, "few_shot": [1] * n}
    return binary_run(tmp_path / "run", correct, fmt)


def test_factorial_effects_on_a_hand_built_run(factorial):
    decision = analyse(factorial)
    by = {(e.key, e.metric): e for e in decision.effects}
    retrieval = by["retrieval", "contains_answer"]
    assert retrieval.formula == "rag − base" and retrieval.n == 40
    assert retrieval.delta == pytest.approx(0.75) and retrieval.verdict == "better"
    assert retrieval.text.startswith("better by 0.750")
    assert by["fine_tuning", "json_schema"].delta == pytest.approx(1.0)
    assert by["fine_tuning", "json_schema"].verdict == "better"
    combining = by["combining", "contains_answer"]
    assert "RAG" in combining.formula and combining.delta == pytest.approx(0.025)  # hybrid vs rag: 31 vs 30
    assert combining.verdict == "no_difference" and "better" not in combining.text
    format_combining = by["combining", "json_schema"]
    assert "fine-tuned" in format_combining.formula and format_combining.delta == pytest.approx(0.0)
    interaction = by["interaction", "json_schema"]  # 1 − 0.125 − 1 + 0 per example, on average
    assert interaction.delta == pytest.approx(1 - 5 / 40 - 1)
    assert interaction.verdict == "worse" and interaction.text.startswith("overlap")
    few = by["few_shot", "contains_answer"]
    assert few.delta == pytest.approx(0.5) and few.verdict == "better"
    assert few.power is not None and few.power.mde is not None


def test_examples_not_scored_by_every_system_are_left_out_and_counted(tmp_path):
    correct = {"base": [0] * 12, "rag": [1] * 12}
    run = binary_run(tmp_path / "run", correct)
    samples = (run / "samples.jsonl").read_text().splitlines()
    broken = samples[0].replace('"status": "ok"', '"status": "undefined"').replace('"value": 0.0', '"value": null')
    (run / "samples.jsonl").write_text("\n".join([broken] + samples[1:]) + "\n")
    retrieval = next(e for e in analyse(run).effects if e.key == "retrieval")
    assert retrieval.n == 11 and retrieval.n_dropped == 1


def test_tag_effects_and_too_few_per_tag(tmp_path):
    correct = {"base": [0] * 30, "rag": [1] * 30}
    tags = {i: ["fact"] if i < 25 else ["format"] for i in range(30)}
    decision = analyse(binary_run(tmp_path / "run", correct, tags=tags))
    by_tag = {e.tag: e for e in decision.tag_effects if e.key == "retrieval"}
    assert by_tag["fact"].n == 25 and by_tag["fact"].verdict == "better"
    assert by_tag["format"].n == 5 and by_tag["format"].verdict == "too_few"
    assert "too few paired examples" in by_tag["format"].text and "better" not in by_tag["format"].text
