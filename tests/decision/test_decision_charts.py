"""The Decision charts: the failure bars add up per system; the cost chart draws only a trade-off."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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


def marks(chart, cls: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(chart.svg).iter() if e.get("class") == cls]


def test_attribution_bars_are_shares_that_add_up_to_one():
    chart = plot_attribution(decision([]))
    labels = [e.text for e in marks(chart, "legend")]
    assert labels == ["correct", "retrieval miss (no reference document retrieved)", "wrong answer (knowledge failure)"]
    shares: dict[str, float] = {}
    for segment in marks(chart, "segment"):
        shares[segment.get("data-system")] = shares.get(segment.get("data-system"), 0.0) + float(segment.get("data-value"))
    assert shares == {"rag": pytest.approx(1.0), "base": pytest.approx(1.0)}
    assert [(s.get("data-system"), s.get("data-bucket")) for s in marks(chart, "segment")] == [
        ("rag", "correct"), ("rag", "retrieval_miss"), ("base", "knowledge")]  # an empty share draws nothing
    assert [e.text for e in marks(chart, "tick") if e.text in ("rag", "base")] == ["rag", "base"]


def test_cost_chart_only_when_there_is_a_trade_off():
    with pytest.raises(ValueError):
        plot_break_even(decision([cost("a", 0.001, 0.0), cost("b", 0.002, 0.0)]))  # no one-off cost anywhere
    chart = plot_break_even(decision([cost("a", 0.001, 5.0), cost("b", 0.002, 0.0), cost("free", 0.0, 0.0)]))
    assert [line.get("data-system") for line in marks(chart, "cost-line")] == ["a", "b"]
    assert [e.text for e in marks(chart, "omitted")] == ["not shown (no cost at all): free"]
    ticks = [e.text for e in marks(chart, "tick")]
    assert "100" in ticks and "1e6" in ticks  # log axes: decades
    keys = [key for key, _, _ in render_charts(decision([cost("a", 0.0, 0.0)]))]
    assert keys == ["attribution"]
