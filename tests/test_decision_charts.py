"""The Decision charts: the failure bars add up per system; the cost chart draws only a trade-off."""

from __future__ import annotations

import pytest

from harness.decision.charts import plot_attribution, plot_break_even, render_charts
from harness.decision.model import Attribution, Bucket, Costs, Decision, Latency, Recommendation, Roles, SystemCost


def decision(costs: list[SystemCost]) -> Decision:
    attribution = [
        Attribution(system="rag", role="rag", scheme="retrieval", n=4,
                    buckets=[Bucket(key="correct", label="correct", count=1), Bucket(key="retrieval_miss", label="miss", count=3)]),
        Attribution(system="base", role="base", scheme="no_retrieval", n=2,
                    buckets=[Bucket(key="correct", label="correct", count=0), Bucket(key="knowledge", label="k", count=2)]),
    ]
    return Decision(run_id="r", suite="s", correctness="contains_answer", format=None, confidence=0.95, roles=Roles(),
                    recommendation=Recommendation(system=None, role=None, text=""), effects=[], tag_effects=[],
                    attribution=attribution, matrix=[], rules=[], costs=Costs(systems=costs), freshness=None, power=[])


def cost(system: str, per_query: float, one_off: float) -> SystemCost:
    return SystemCost(system=system, role="rag", total=Latency(), retrieval=None, generation=None,
                      usd_per_query=per_query, one_off_usd=one_off)


def test_attribution_bars_are_shares_that_add_up_to_one():
    figure = plot_attribution(decision([]))
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["correct", "retrieval miss (no reference document retrieved)", "wrong answer (knowledge failure)"]
    ends = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        ends[y] = max(ends.get(y, 0.0), patch.get_x() + patch.get_width())
    assert ends == {0: pytest.approx(1.0), 1: pytest.approx(1.0)}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["rag", "base"]


def test_cost_chart_only_when_there_is_a_trade_off():
    with pytest.raises(ValueError):
        plot_break_even(decision([cost("a", 0.001, 0.0), cost("b", 0.002, 0.0)]))  # no one-off cost anywhere
    figure = plot_break_even(decision([cost("a", 0.001, 5.0), cost("b", 0.002, 0.0), cost("free", 0.0, 0.0)]))
    ax = figure.axes[0]
    assert ax.get_yscale() == "log" and [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert "not shown (no cost at all): free" in [t.get_text() for t in figure.texts]
    keys = [key for key, _, _ in render_charts(decision([cost("a", 0.0, 0.0)]))]
    assert keys == ["attribution"]
