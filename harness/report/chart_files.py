"""Which charts a run gets, and writing them into its charts/ folder (harness.report.charts draws them)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable

from harness.charts.svg import Chart
from harness.report.charts import latency_parts, plot_latency, plot_metric, plot_tags, plot_tradeoff
from harness.report.data import RunData
from harness.report.tables import tag_metrics

CHART_METRICS_LIMIT = 8
TAG_CHARTS_LIMIT = 4


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-") or "metric"


def planned_charts(data: RunData) -> list[tuple[str, str, Callable[[], Chart]]]:
    """(file name, title, chart factory) for every chart this run has data for."""
    plans: list[tuple[str, str, Callable[[], Chart]]] = []
    main = data.main_metrics()
    for metric in main[:CHART_METRICS_LIMIT]:
        plans.append((f"metric_{slug(metric)}.svg", f"{metric} by system", partial(plot_metric, data, metric)))
    if latency_parts(data):
        plans.append(("latency.svg", "Latency", partial(plot_latency, data)))
    quality = data.headline()
    for cost, name in (("latency_s", "latency"), ("cost_usd", "cost")):
        if quality and any(data.mean(s, quality) is not None and data.mean(s, cost) is not None for s in data.systems):
            plans.append((f"tradeoff_{name}.svg", f"{quality} vs {cost}", partial(plot_tradeoff, data, quality, cost)))
    if data.tags():
        for metric in main[:TAG_CHARTS_LIMIT]:
            plans.append((f"tags_{slug(metric)}.svg", f"{metric} by tag", partial(plot_tags, data, metric)))
    return plans


def charts_left_out(data: RunData) -> list[str]:
    """Quality metrics without a bar chart of their own (the tables show every metric)."""
    return data.main_metrics()[CHART_METRICS_LIMIT:]


def tag_charts_left_out(data: RunData) -> list[str]:
    """Metrics without a tag chart (later quality ones, lower-is-better ones): the tag tables show them."""
    charted = data.main_metrics()[:TAG_CHARTS_LIMIT]
    return [m for m in tag_metrics(data) if m not in charted] if data.tags() else []


def render_charts(data: RunData, folder: Path) -> list[tuple[Path, str, bytes]]:
    """Save every chart as SVG into `folder`; returns (path, title, SVG bytes) for the HTML report."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, title, make in planned_charts(data):
        svg = make().svg.encode("utf-8")
        path = folder / filename
        path.write_bytes(svg)
        written.append((path, title, svg))
    return written
