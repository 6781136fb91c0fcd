"""Cost and latency: percentiles, prices from `cost:`, one-off costs from the run's artifacts,
and the break-even arithmetic."""

from __future__ import annotations

import json

import pytest

from tests.decision_runs import sample, write_run
from harness.decision import analyse
from harness.decision.costs import break_even
from harness.decision.model import Latency, SystemCost


def cost(system: str, per_query: float | None, one_off: float | None) -> SystemCost:
    return SystemCost(system=system, role="rag", total=Latency(), retrieval=None, generation=None,
                      usd_per_query=per_query, one_off_usd=one_off)


def test_break_even_volume_is_the_one_off_difference_over_the_monthly_saving():
    tuned, prompted = cost("finetuned", 0.001, 50.0), cost("few_shot", 0.003, 0.0)
    point = break_even(tuned, prompted, horizon=12)
    # 50 USD more up front, 0.002 USD less per query: 50 / (0.002 x 12) = 2083.3 queries a month
    assert point is not None and point.queries_per_month == pytest.approx(50 / (0.002 * 12))
    assert point.cheaper == "finetuned" and "2,083 queries a month over 12 months" in point.text
    assert break_even(tuned, prompted, horizon=1).queries_per_month == pytest.approx(25_000)
    assert break_even(prompted, tuned, horizon=12) is None  # dearer per query: never pays back
    assert break_even(cost("a", 0.001, 0.0), cost("b", 0.002, 0.0), horizon=12) is None  # nothing to pay back
    assert break_even(cost("a", 0.001, None), prompted, horizon=12) is None  # unknown one-off: no claim


@pytest.fixture
def priced_run(tmp_path):
    lora = tmp_path / "lora"
    lora.mkdir()
    (lora / "lineage.json").write_text(json.dumps({"wall_time_s": {"total": 1800.0}, "training_data": {"n_examples": 136}}))
    index = tmp_path / "index"
    (index / "vectors").mkdir(parents=True)
    (index / "manifest.json").write_text(json.dumps({"build_s": 30.0}))
    (index / "vectors" / "manifest.json").write_text(json.dumps({"build_s": 6.0}))
    systems = {"prompt": {"kind": "prompt", "model": "local/m"}, "finetuned": {"kind": "finetuned", "model": "local/m",
               "train": {"steps": 3}}, "rag": {"kind": "rag", "model": "openai/gpt"}}
    samples = []
    for i in range(20):
        samples.append(sample("prompt", f"q{i}", {"contains_answer": 0}, timings=(2.0 + i * 0.1, None, 2.0), tokens=(300, 20)))
        samples.append(sample("finetuned", f"q{i}", {"contains_answer": 0}, timings=(1.0, None, 1.0), tokens=(50, 20)))
        samples.append(sample("rag", f"q{i}", {"contains_answer": 1}, retrieved=["a.md"], timings=(0.5 + 0.1, 0.1, 0.5),
                              tokens=(1000, 10), cost=0.0004))
    header = {"artifacts": {"finetuned": {"lora": str(lora / "x.gguf"), "lineage": str(lora / "lineage.json")},
                            "rag": {"index": str(index), "vectors": str(index / "vectors")}},
              "cost": {"prices": {"local/m": {"usd_per_hour": 3.6}, "rag": {"usd_per_1m_input_tokens": 0.15,
                                                                             "usd_per_1m_output_tokens": 0.6}},
                       "training_usd_per_hour": 2.0, "indexing_usd_per_hour": 1.0, "one_off_usd": {"rag": 5.0}}}
    return write_run(tmp_path / "run", systems, samples, **header)


def test_prices_one_off_costs_and_latency_from_the_run(priced_run):
    costs = {c.system: c for c in analyse(priced_run).costs.systems}
    prompt, tuned, rag = costs["prompt"], costs["finetuned"], costs["rag"]
    mean_prompt_s = sum(2.0 + i * 0.1 for i in range(20)) / 20
    assert prompt.usd_per_query == pytest.approx(3.6 * mean_prompt_s / 3600)  # $3.6/h machine, one request at a time
    assert prompt.price_source.startswith("cost.prices.local/m")
    assert prompt.total.p50 == pytest.approx(2.95) and prompt.total.p95 == pytest.approx(3.805)
    assert prompt.retrieval is None and prompt.one_off_usd == 0.0
    assert tuned.training_s == 1800.0 and tuned.training_usd == pytest.approx(1.0)  # half an hour at $2/h
    assert tuned.one_off_usd == pytest.approx(1.0) and any("136 examples" in n for n in tuned.one_off_notes)
    assert rag.usd_per_query == pytest.approx((1000 * 0.15 + 10 * 0.6) / 1e6)  # the system's own entry wins
    assert rag.usd_per_1k == pytest.approx(rag.usd_per_query * 1000)
    assert rag.index_build_s == 36.0 and rag.index_usd == pytest.approx(0.01)
    assert rag.one_off_usd == pytest.approx(5.01) and rag.retrieval.p50 == pytest.approx(0.1)


def test_break_even_points_and_the_retrieval_rule_of_thumb(priced_run):
    decision = analyse(priced_run)
    points = {(b.cheaper, b.other): b for b in decision.costs.break_even}
    tuned = next(c for c in decision.costs.systems if c.system == "finetuned")
    prompt = next(c for c in decision.costs.systems if c.system == "prompt")
    expected = tuned.one_off_usd / ((prompt.usd_per_query - tuned.usd_per_query) * 12)
    assert points["finetuned", "prompt"].queries_per_month == pytest.approx(expected)
    assert decision.costs.retrieval_overhead == [
        "rag: retrieval adds p50 100 ms, p95 100 ms per query: the typical query is inside the 50-200 ms rule "
        "of thumb (n=20)"]


def test_a_fast_typical_query_with_a_slow_tail_is_not_called_inside_the_rule():
    from harness.decision.costs import retrieval_overhead

    fast = SystemCost(system="rag", role="rag", total=Latency(), generation=None,
                      retrieval=Latency(p50=0.0009, p95=1.02, n=52))
    assert retrieval_overhead(fast) == ("rag: retrieval adds p50 0.9 ms, p95 1020 ms per query: the typical query "
                                        "is below the 50-200 ms rule of thumb, the slowest 5% above it (n=52)")


def test_unpriced_one_off_time_is_unknown_not_zero(priced_run):
    header = json.loads((priced_run / "run.json").read_text())
    header["cost"] = None
    (priced_run / "run.json").write_text(json.dumps(header))
    decision = analyse(priced_run)
    tuned = next(c for c in decision.costs.systems if c.system == "finetuned")
    assert tuned.training_s == 1800.0 and tuned.one_off_usd is None
    assert any("not priced" in n for n in decision.costs.notes)
    assert decision.costs.break_even == []
    rag = next(c for c in decision.costs.systems if c.system == "rag")
    assert rag.usd_per_query == pytest.approx(0.0004) and "litellm" in rag.price_source  # the recorded cost


def test_missing_artifact_files_are_said_not_guessed(priced_run, tmp_path):
    (tmp_path / "lora" / "lineage.json").unlink()
    tuned = next(c for c in analyse(priced_run).costs.systems if c.system == "finetuned")
    assert tuned.training_s is None and tuned.one_off_usd is None
    assert any("lineage not readable" in n for n in tuned.one_off_notes)


def test_unknown_costs_do_not_read_as_no_trade_off(priced_run):
    from harness.decision import render_markdown

    header = json.loads((priced_run / "run.json").read_text())
    header["cost"] = None  # training time measured but unpriced: the fine-tuned one-off cost is unknown
    (priced_run / "run.json").write_text(json.dumps(header))
    decision = analyse(priced_run)
    assert decision.costs.break_even == []
    assert "no system is both cheaper per query and dearer up front" not in render_markdown(decision)
    assert "no break-even can be computed for finetuned: its one-off cost is unknown" in decision.costs.notes


def test_latency_left_without_the_failed_calls_is_said(tmp_path):
    """Timeouts are often the slowest calls: figures over answered samples only must say so."""
    samples = [sample("rag", f"q{i}", {"contains_answer": 1}, timings=(1.0, 0.1, 0.9)) for i in range(8)]
    samples += [sample("rag", f"q{i}", {"contains_answer": 1}, error="ModelCallError: timed out after 30 s")
                for i in range(8, 10)]
    samples += [sample("prompt", f"q{i}", {"contains_answer": 0}) for i in range(10)]
    run = write_run(tmp_path / "run", {"rag": {"kind": "rag"}, "prompt": {"kind": "prompt"}}, samples)
    decision = analyse(run)
    rag = next(c for c in decision.costs.systems if c.system == "rag")
    assert rag.total.n == 8 and rag.total.p95 == pytest.approx(1.0)
    notes = [n for n in decision.costs.notes if "failed call" in n]
    assert notes == ["rag: latency, tokens and cost cover its answered samples only; its 2 failed call(s) are left "
                     "out, and timeouts are often the slowest, so its p95 may look better than it is"]
