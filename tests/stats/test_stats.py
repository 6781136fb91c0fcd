"""Bootstrap intervals (edge cases, coverage), percentiles, the run tally, and the no-NaN guard."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.metrics.base import finite_or_error
from harness.run import RunTally
from harness.stats.bootstrap import bootstrap_ci, percentiles
from harness.types import Score


def test_bootstrap_edge_cases() -> None:
    assert bootstrap_ci([]) == (None, None)
    assert bootstrap_ci([None, None]) == (None, None)
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    low, high = bootstrap_ci([0.0, 1.0] * 50)
    assert 0.38 < low < 0.5 < high < 0.62
    assert bootstrap_ci([0.0, 1.0, 1.0], seed=1) == bootstrap_ci([0.0, 1.0, 1.0], seed=1)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], confidence=1.5)


def test_bootstrap_large_n_is_blocked_not_huge() -> None:
    values = np.random.default_rng(0).random(200_000)
    low, high = bootstrap_ci(values, samples=200)
    assert low < values.mean() < high and high - low < 0.01


@pytest.mark.parametrize("kind", ["bernoulli", "normal"])
def test_bootstrap_coverage_is_near_nominal(kind: str) -> None:
    """Over 300 simulated data sets of n=60, the 95% interval holds the true mean ~95% of the time."""
    rng = np.random.default_rng(42)
    true_mean, hits, trials = 0.3, 0, 300
    for trial in range(trials):
        data = rng.random(60) < true_mean if kind == "bernoulli" else rng.normal(true_mean, 1.0, 60)
        low, high = bootstrap_ci(data.astype(float), samples=1000, seed=trial)
        hits += low <= true_mean <= high
    assert 0.89 <= hits / trials <= 0.99


def test_percentiles() -> None:
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    values = list(range(1, 101))
    found = percentiles(values)
    assert found["p50"] == pytest.approx(50.5) and found["p95"] == pytest.approx(95.05) and found["p99"] == pytest.approx(99.01)
    assert percentiles([2.0], qs=(50, 90)) == {"p50": 2.0, "p90": 2.0}


def test_the_tally_counts_statuses_and_only_averages_ok_scores() -> None:
    tally = RunTally()
    for score in [Score.ok("m", 1.0), Score.ok("m", 0.0), Score.undefined("m", "n/a"), Score.failed("m", "boom")]:
        tally.add("s", False, {"m": score})
    tally.add("s", True, {"m": Score.failed("m", "system error")})
    tally.add("t", False, {"m": {"status": "undefined", "value": None}})
    (row, empty) = tally.summary(samples=500, confidence=0.95, seed=0)
    assert row.mean == 0.5 and row.n == 2 and row.n_undefined == 1 and row.n_error == 2
    assert row.ci_low <= 0.5 <= row.ci_high
    assert empty.mean is None and empty.ci_low is None and empty.n == 0 and empty.n_undefined == 1
    assert tally.samples == {"s": 5, "t": 1} and tally.errors == {"s": 1}
    # the metric's own failure rate leaves out the sample whose system failed: 1 of 5
    assert tally.degraded(0.1) and not tally.degraded(0.2)


def test_intervals_drawn_on_threads_are_the_ones_drawn_in_turn(monkeypatch) -> None:
    """A large run's summary resamples its cells on threads: the same figures, whatever order
    the threads finish in."""
    import harness.run.summary as summary

    rng = np.random.default_rng(3)
    tally = RunTally()
    for i in range(3000):
        tally.add(f"s{i % 3}", False, {"a": Score.ok("a", float(rng.random())), "b": Score.ok("b", float(i % 2)),
                                       "c": Score.ok("c", 1.0)})
    monkeypatch.setattr(summary, "BOOTSTRAP_THREADS", 1)
    in_turn = tally.summary(samples=400, confidence=0.9, seed=5)
    monkeypatch.setattr(summary, "BOOTSTRAP_THREADS", 4)
    monkeypatch.setattr(summary.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(summary, "PARALLEL_CELLS", 1)
    assert tally.summary(samples=400, confidence=0.9, seed=5) == in_turn
    assert len(in_turn) == 9 and all(r.ci_low is not None for r in in_turn)


def test_cells_holding_the_same_values_are_resampled_once(monkeypatch) -> None:
    """A prompt system's generation latency is its total latency: one draw serves both cells,
    and the figures are those each cell gets when drawn on its own."""
    import harness.run.summary as summary
    import harness.stats.bootstrap as stats

    rng = np.random.default_rng(4)
    tally = RunTally()
    for _ in range(200):
        value = float(rng.random())
        tally.add("s", False, {"latency_s": Score.ok("latency_s", value), "generation_latency_s": Score.ok("generation_latency_s", value),
                               "other": Score.ok("other", float(rng.random()))})
    drawn = []
    real = stats.bootstrap_ci
    monkeypatch.setattr(stats, "bootstrap_ci", lambda values, **kw: drawn.append(len(values)) or real(values, **kw))
    rows = {r.metric: r for r in tally.summary(samples=300, confidence=0.9, seed=2)}
    assert len(drawn) == 2  # latency_s and generation_latency_s share one draw
    assert rows["latency_s"].model_dump(exclude={"metric"}) == rows["generation_latency_s"].model_dump(exclude={"metric"})
    alone = RunTally()
    for value in tally.cells[("s", "generation_latency_s")].values:
        alone.add("s", False, {"generation_latency_s": Score.ok("generation_latency_s", value)})
    (own,) = alone.summary(samples=300, confidence=0.9, seed=2)
    assert own == rows["generation_latency_s"]
    assert rows["other"].ci_low != rows["latency_s"].ci_low


def test_finite_or_error_never_lets_nan_through() -> None:
    assert finite_or_error("m", 0.25).value == 0.25
    for bad in (float("nan"), float("inf"), None, "x"):
        score = finite_or_error("m", bad)  # type: ignore[arg-type]
        assert score.status == "error" and score.value is None and score.reason
    assert not math.isnan(finite_or_error("m", 1).value)


def test_bootstrap_block_size_changes_memory_not_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from harness.stats import bootstrap as stats

    rng = np.random.default_rng(5)
    for n in (7, 1001, 20_001):
        values = rng.random(n)
        monkeypatch.setattr(stats, "BLOCK_CELLS", 10**12)  # one block: every index at once
        whole = stats.bootstrap_ci(values, samples=300, seed=3)
        monkeypatch.setattr(stats, "BLOCK_CELLS", 4_099)  # many blocks, of odd sizes
        assert stats.bootstrap_ci(values, samples=300, seed=3) == whole
