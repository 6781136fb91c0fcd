"""Paired statistics: Holm on a textbook example, the sign-flip test against brute force."""

import itertools

import numpy as np
import pytest

from harness.types import infer_metric_info
from harness.stats.paired import holm, paired_bootstrap_ci, paired_test, sign_flip_test


def test_holm_matches_known_example():
    # Holm (1979)-style worked example: sorted p 0.01, 0.02, 0.03, 0.04 with m = 4
    # -> 0.04, max(0.04, 0.06)=0.06, max(0.06, 0.06)=0.06, max(0.06, 0.04)=0.06
    adjusted = holm([0.03, 0.01, 0.04, 0.02])
    assert adjusted == pytest.approx([0.06, 0.04, 0.06, 0.06])


def test_holm_caps_at_one_keeps_order_and_skips_none():
    adjusted = holm([0.5, None, 0.001, 0.9])
    assert adjusted[1] is None
    assert adjusted[2] == pytest.approx(0.003)
    assert adjusted[0] == pytest.approx(1.0) and adjusted[3] == pytest.approx(1.0)


def test_holm_agrees_with_statsmodels_style_reference():
    p = [0.010, 0.013, 0.014, 0.190, 0.350, 0.500, 0.630, 0.670, 0.750, 0.810]
    expected = [0.100, 0.117, 0.117, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert holm(p) == pytest.approx(expected, abs=1e-9)


def brute_force(d):
    """(two-sided, less, greater) by listing every sign pattern of the non-zero differences."""
    d = [x for x in d if x != 0]
    t = sum(d)
    stats = [sum(s * x for s, x in zip(signs, d)) for signs in itertools.product([1, -1], repeat=len(d))]
    total = len(stats)
    return (
        sum(abs(s) >= abs(t) - 1e-9 for s in stats) / total,
        sum(s <= t + 1e-9 for s in stats) / total,
        sum(s >= t - 1e-9 for s in stats) / total,
    )


@pytest.mark.parametrize("diffs", [[1, 1, 1, 1, 1], [1, -1, 0, 1, 1, 1, 0], [0.3, -0.1, 0.25, 0.4, -0.05, 0.2], [-1, -1, 1, -1]])
def test_exact_sign_flip_matches_brute_force(diffs):
    result = sign_flip_test(np.array(diffs, dtype=float))
    assert result.exact
    assert (result.two_sided, result.less, result.greater) == pytest.approx(brute_force(diffs))


def test_one_sided_is_half_the_two_sided_in_the_observed_direction():
    result = sign_flip_test(np.array([1.0] * 6 + [-1.0]))  # 7 non-zero, mostly up
    assert result.greater == pytest.approx(result.two_sided / 2)
    assert result.less > 0.9


def test_all_zero_differences_give_p_one():
    result = sign_flip_test(np.zeros(30))
    assert (result.two_sided, result.less, result.greater, result.exact) == (1.0, 1.0, 1.0, True)


def test_monte_carlo_agrees_with_normal_approximation_and_is_seeded():
    rng = np.random.default_rng(3)
    diffs = rng.normal(0.3, 1.0, size=40)
    first = sign_flip_test(diffs, permutations=20_000, seed=1)
    assert first == sign_flip_test(diffs, permutations=20_000, seed=1)
    assert not first.exact and 0 < first.two_sided <= 1
    from math import erf, sqrt

    z = abs(diffs.sum()) / sqrt((diffs**2).sum())
    normal_p = 2 * (1 - 0.5 * (1 + erf(z / sqrt(2))))
    assert first.two_sided == pytest.approx(normal_p, abs=0.03)
    assert first.greater == pytest.approx(normal_p / 2, abs=0.02)


def test_monte_carlo_is_valid_under_the_null():
    """Across many null data sets the fraction of p <= 0.05 stays at or under 5%."""
    rng = np.random.default_rng(11)
    ps = [sign_flip_test(rng.normal(0, 1, 30), permutations=2000, seed=i).two_sided for i in range(400)]
    assert np.mean(np.array(ps) <= 0.05) <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400)


def test_paired_test_reports_delta_and_ci():
    base = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 1] * 5, dtype=float)
    new = base.copy()
    new[:20] = 0  # 14 examples go from right to wrong, all in one direction
    result = paired_test(base, new, seed=0)
    assert result.n == 50
    assert result.delta == pytest.approx(new.mean() - base.mean())
    assert result.ci_low <= result.delta <= result.ci_high < 0
    assert result.exact and result.p_value == pytest.approx(2 / 2**14)
    assert result.p_less == pytest.approx(1 / 2**14) and result.p_greater == 1.0


def test_bootstrap_ci_edge_cases():
    assert paired_bootstrap_ci(np.array([])) == (None, None)
    assert paired_bootstrap_ci(np.array([0.5])) == (0.5, 0.5)
    assert paired_bootstrap_ci(np.zeros(9)) == (0.0, 0.0)


def test_direction_by_name_for_runs_that_did_not_record_it():
    for name in ["latency_s", "retrieval_latency_s", "generation_latency_s", "cost_usd", "tokens_in", "tokens_out", "error_rate"]:
        assert not infer_metric_info(name).higher_is_better
    for name in ["exact_match", "faithfulness", "recall@5", "token_f1", "json_schema"]:
        assert infer_metric_info(name).higher_is_better
