"""The notebook API: load_run's DataFrames and charts, and run_suite inside a running loop."""

from __future__ import annotations

import asyncio
import math
import threading
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.results import RunResults, arun_suite, load_run, run_suite
from harness.run.summary import SUMMARY_COLUMNS
from tests.report.test_report_data import EXAMPLES, SYSTEMS, make_run

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "suite.yaml"


@pytest.fixture
def results(tmp_path: Path) -> RunResults:
    return load_run(make_run(tmp_path / "run"))


def test_header_and_summary(results):
    assert results.header["suite"]["name"] == "handmade"
    assert results.header["systems"]["rag"]["kind"] == "rag"
    assert list(results.summary.columns) == SUMMARY_COLUMNS
    row = results.summary.query("system == 'oracle' and metric == 'faithfulness'").iloc[0]
    assert math.isnan(row["mean"]) and row["n_undefined"] == 4
    assert results.summary.query("system == 'rag' and metric == 'exact_match'")["mean"].item() == pytest.approx(0.75)


def test_samples_long_and_wide(results):
    samples = results.samples
    assert len(samples) == len(SYSTEMS) * len(EXAMPLES) * 6
    assert {"system", "kind", "example_id", "metric", "value", "status", "reason", "tags"} <= set(samples.columns)
    failed = samples.query("system == 'broken' and example_id == 'e1' and metric == 'exact_match'").iloc[0]
    assert failed["status"] == "error" and math.isnan(failed["value"])
    wide = results.wide()
    assert wide.shape == (16, 6)
    assert list(wide.columns) == ["exact_match", "recall@5", "faithfulness", "latency_s", "tokens_in", "cost_usd"]
    assert wide.loc[("rag", "e2"), "exact_match"] == 1.0
    assert results.wide("status").loc[("oracle", "e1"), "faithfulness"] == "undefined"


def test_outputs_one_row_per_system_and_example(results):
    outputs = results.outputs
    assert len(outputs) == 16
    rag = outputs.query("system == 'rag' and example_id == 'e1'").iloc[0]
    assert rag["retrieved_doc_ids"] == ["doc0", "noise"]
    assert rag["retrieval_s"] == 0.2 and rag["generation_s"] == 0.3 and rag["tokens_in"] == 100
    broken = outputs.query("system == 'broken' and example_id == 'e1'").iloc[0]
    assert "HTTP 503" in broken["error"]
    assert "<script>" in outputs.query("system == 'oracle'").iloc[0]["output"]  # raw data, unescaped


def test_table_and_plots(results):
    table = results.table()
    assert list(table.index) == list(SYSTEMS)
    assert table.loc["rag", "exact_match"] == pytest.approx(0.75)
    from harness.charts.svg import Chart

    bars = results.plot_metric("exact_match")
    assert isinstance(bars, Chart) and bars._repr_svg_().startswith("<svg ") and 'data-system="rag"' in bars.svg
    tradeoff = results.plot_tradeoff()  # headline quality metric vs latency
    assert isinstance(tradeoff, Chart) and tradeoff.title == "exact_match vs latency_s"
    assert isinstance(results.plot_tradeoff("faithfulness", cost="cost_usd"), Chart)
    assert results.plot_tags("recall@5").title == "recall@5 by tag"
    saved = results.plot_latency().save(results.path / "latency-copy.svg")
    assert saved.read_text().startswith("<svg ")
    assert "<table" in results._repr_html_() and "handmade" in repr(results)


def test_load_run_rejects_non_runs(tmp_path):
    with pytest.raises(HarnessError, match="not a run directory"):
        load_run(tmp_path)


def test_unknown_option_is_a_clear_type_error(tmp_path):
    with pytest.raises(TypeError, match="unknown run option.*colour.*known: out, limit"):
        run_suite(QUICKSTART, colour="red")


def test_run_suite_inside_a_running_event_loop(tmp_path):
    """As in Jupyter: a loop is already running in this thread; no nest_asyncio needed."""

    async def notebook_cell():
        assert asyncio.get_running_loop().is_running()
        return run_suite(QUICKSTART, out=tmp_path / "sync", use_cache=False, progress=False, systems="base,toy_rag")

    results = asyncio.run(notebook_cell())
    assert results.header["status"] == "complete"
    assert results.systems == ["base", "toy_rag"]
    assert len(results.outputs) == 16
    assert results.table().loc["toy_rag", "exact_match"] > results.table().loc["base", "exact_match"]
    paths = results.write_reports()
    assert (tmp_path / "sync" / "report.html") in paths
    assert "| toy_rag |" in (tmp_path / "sync" / "report.md").read_text()


def test_arun_suite_can_be_awaited_and_leaves_the_loop_free(tmp_path):
    ticks = []

    async def main():
        async def ticker():
            while True:
                ticks.append(threading.get_ident())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        results = await arun_suite(QUICKSTART, out=tmp_path / "async", use_cache=False, progress=False, limit=2)
        task.cancel()
        return results

    results = asyncio.run(main())
    assert results.header["counts"]["done"] == 6 and len(ticks) > 3
