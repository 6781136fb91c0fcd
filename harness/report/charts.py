"""Charts as matplotlib Figure objects (no pyplot, so no global state and no GUI backend).

Tests and notebooks inspect the returned Figures; `render_charts` saves them as PNGs with Agg.
Colours follow the system kind (see data.KIND_COLOURS) so a kind looks the same everywhere.
matplotlib is imported inside the functions: it is an optional extra and slow to import.
"""

from __future__ import annotations

import io
import math
import re
from functools import partial
from pathlib import Path
from typing import Any, Callable

from harness.report.data import RunData, kind_colour, pareto_front

CHART_METRICS_LIMIT = 8
TAG_CHARTS_LIMIT = 4
SEGMENTS = {"retrieval": "#2A9D8F", "generation": "#E9C46A", "other / not split": "#BBBBBB"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _direction(data: RunData, metric: str) -> str:
    return "lower is better" if data.lower_is_better(metric) else "higher is better"


def _kind_legend(ax: Any, data: RunData, systems: list[str]) -> None:
    from matplotlib.patches import Patch

    kinds = list(dict.fromkeys(data.kinds[s] for s in systems))
    handles = [Patch(facecolor=kind_colour(k), label=k) for k in kinds]
    if handles:
        ax.legend(handles=handles, title="kind", fontsize=8, title_fontsize=8, frameon=False,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _tick_labels(set_ticks: Any, labels: list[str]) -> None:
    """Slanted when there are many, so long names do not overlap."""
    slant = len(labels) > 4
    set_ticks(range(len(labels)), labels, rotation=25 if slant else 0, ha="right" if slant else "center")


def _check_metric(data: RunData, metric: str) -> None:
    if metric not in data.metrics:
        raise ValueError(f"no metric {metric!r} in this run (it has: {', '.join(data.metrics) or 'none'})")


def plot_metric(data: RunData, metric: str) -> Any:
    """One bar per system with its CI; systems with no defined value say n/a instead of a bar."""
    _check_metric(data, metric)
    systems, colours = data.systems, data.colours()
    fig = _figure(max(5.0, 1.0 * len(systems) + 2.5), 3.8)
    ax = fig.add_subplot()
    xs, heights, errors, hues = [], [], [[], []], []
    for i, system in enumerate(systems):
        row = data.cell(system, metric)
        if row is None or row["mean"] is None:
            ax.text(i, 0, "n/a", ha="center", va="bottom", color="#666666", fontsize=9)
            continue
        mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
        xs.append(i)
        heights.append(mean)
        errors[0].append(max(mean - low, 0.0) if low is not None else 0.0)
        errors[1].append(max(high - mean, 0.0) if high is not None else 0.0)
        hues.append(colours[system])
    bars = ax.bar(xs, heights, color=hues, yerr=errors, capsize=4, ecolor="#333333", width=0.65)
    bars.set_label("systems")
    for x, mean in zip(xs, heights):  # beside the CI line, so the label never sits on it
        ax.annotate(data.fmt(metric, mean), (x, mean), xytext=(4, 2), textcoords="offset points", ha="left", fontsize=8)
    if heights and all(0.0 <= v <= 1.0 for v in heights) and not data.lower_is_better(metric):
        ax.set_ylim(0, 1.12)
    _tick_labels(ax.set_xticks, systems)
    ax.set_xlim(-0.6, len(systems) - 0.4)
    ax.set_xlabel("system")
    ax.set_ylabel(f"{metric} ({_direction(data, metric)})")
    ax.set_title(f"{metric}: mean with 95% CI")
    ax.grid(axis="y", alpha=0.3)
    _kind_legend(ax, data, systems)
    return fig


def latency_parts(data: RunData) -> dict[str, dict[str, Any]]:
    """Per system: total seconds per successful sample, and mean retrieval/generation seconds."""
    return data.latency()


def plot_latency(data: RunData) -> Any:
    """Left: distribution of total latency per system. Right: where the time goes, on average."""
    parts = latency_parts(data)
    if not parts:
        raise ValueError("no successful samples with timings in this run")
    systems, colours = list(parts), data.colours()
    fig = _figure(11.0, max(3.0, 0.55 * len(systems) + 1.6))
    box_ax, split_ax = fig.subplots(1, 2, sharey=True)
    boxes = box_ax.boxplot([parts[s]["total"] for s in systems], orientation="horizontal", patch_artist=True,
                           tick_labels=systems, widths=0.6,
                           medianprops={"color": "#111111", "linewidth": 1.5})
    for patch, system in zip(boxes["boxes"], systems):
        patch.set_facecolor(colours[system])
    positives = [v for s in systems for v in parts[s]["total"] if v > 0]
    if positives and max(positives) / min(positives) > 50:
        box_ax.set_xscale("log")
    box_ax.set_xlabel("total latency per sample (s)")
    box_ax.set_ylabel("system")
    box_ax.set_title("latency distribution")
    box_ax.invert_yaxis()
    y = range(1, len(systems) + 1)
    left = [0.0] * len(systems)
    for segment, colour in SEGMENTS.items():
        widths = []
        for s in systems:
            p = parts[s]
            total = sum(p["total"]) / len(p["total"]) if len(p["total"]) else 0.0
            if segment == "other / not split":
                widths.append(max(total - p["retrieval"] - p["generation"], 0.0))
            else:
                widths.append(p[segment])
        bars = split_ax.barh(list(y), widths, left=left, color=colour, label=segment, height=0.6)
        bars.set_label(segment)
        left = [a + b for a, b in zip(left, widths)]
    split_ax.set_xlabel("mean seconds per sample")
    split_ax.set_title("retrieval vs generation")
    split_ax.set_xlim(0, (max(left) * 1.05) or 1.0)  # explicit: stacked bars make their ends "sticky"
    split_ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    split_ax.grid(axis="x", alpha=0.3)
    return fig


def plot_tradeoff(data: RunData, quality: str, cost: str = "latency_s") -> Any:
    """Quality against a cost-side metric; the Pareto front (nothing better on both) is marked."""
    _check_metric(data, quality)
    _check_metric(data, cost)
    points, ci, omitted = {}, {}, []
    for system in data.systems:
        q, c = data.cell(system, quality), data.cell(system, cost)
        if q is None or c is None or q["mean"] is None or c["mean"] is None:
            omitted.append(system)
            continue
        points[system] = (c["mean"], q["mean"])
        ci[system] = (q["ci_low"], q["ci_high"])
    if not points:
        raise ValueError(f"no system has both {quality} and {cost}")
    colours = data.colours()
    fig = _figure(6.8, 4.6)
    ax = fig.add_subplot()
    names = list(points)
    xs, ys = [points[n][0] for n in names], [points[n][1] for n in names]
    low = [max(points[n][1] - (ci[n][0] if ci[n][0] is not None else points[n][1]), 0.0) for n in names]
    high = [max((ci[n][1] if ci[n][1] is not None else points[n][1]) - points[n][1], 0.0) for n in names]
    ax.errorbar(xs, ys, yerr=[low, high], fmt="none", ecolor="#999999", capsize=3, zorder=1)
    dots = ax.scatter(xs, ys, c=[colours[n] for n in names], s=70, edgecolors="#333333", zorder=3)
    dots.set_gid("systems")
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    for i, (name, x, y) in enumerate(zip(names, xs, ys)):  # stack labels of (nearly) coincident points
        near = sum(1 for j in range(i) if abs(xs[j] - x) < 0.04 * span_x and abs(ys[j] - y) < 0.04 * span_y)
        ax.annotate(name, (x, y), xytext=(7, 5 - 11 * near), textcoords="offset points", fontsize=9)
    front = pareto_front(points, not data.lower_is_better(quality), not data.lower_is_better(cost))
    line = ax.plot([points[n][0] for n in front], [points[n][1] for n in front], linestyle="--", color="#333333",
                   marker="o", markersize=15, markerfacecolor="none", zorder=2, label="Pareto front",
                   drawstyle="steps-post")[0]
    line.set_gid("pareto")
    positives = [x for x in xs if x > 0]
    if len(positives) == len(xs) and max(xs) / min(xs) > 50:
        ax.set_xscale("log")
    else:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.margins(x=0.12, y=0.08)
    if not data.lower_is_better(quality) and all(0.0 <= y <= 1.0 for y in ys):
        ax.set_ylim(-0.04, 1.08)  # the whole scale: small gaps should look small
    ax.set_xlabel(f"{cost} ({_direction(data, cost)})")
    ax.set_ylabel(f"{quality} ({_direction(data, quality)})")
    ax.set_title(f"{quality} vs {cost}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="best")
    if omitted:
        fig.text(0.01, 0.005, f"not shown (no value): {', '.join(omitted)}", fontsize=7, color="#666666")
    return fig


def plot_tags(data: RunData, metric: str) -> Any:
    """System x tag heatmap of one metric's mean; grey n/a where no value is defined."""
    import numpy as np

    _check_metric(data, metric)
    tags = data.tags()
    if not tags:
        raise ValueError("the examples in this run have no tags")
    systems, means = data.systems, data.tag_means(metric)
    matrix = np.array([[math.nan if means[s][t][0] is None else means[s][t][0] for t in tags] for s in systems])
    import matplotlib

    cmap = matplotlib.colormaps["viridis_r" if data.lower_is_better(metric) else "viridis"].with_extremes(bad="#DDDDDD")
    unit = not data.lower_is_better(metric) and np.nanmin(matrix, initial=0) >= 0 and np.nanmax(matrix, initial=0) <= 1
    fig = _figure(max(5.0, 0.9 * len(tags) + 3.0), max(2.8, 0.5 * len(systems) + 1.8))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, aspect="auto",
                      vmin=0 if unit else None, vmax=1 if unit else None)
    image.set_gid("heatmap")
    norm = image.norm
    for i, s in enumerate(systems):
        for j, t in enumerate(tags):
            value = matrix[i, j]
            dark = not math.isnan(value) and (norm(value) < 0.5) != data.lower_is_better(metric)
            ax.text(j, i, data.fmt(metric, None if math.isnan(value) else float(value)), ha="center", va="center",
                    fontsize=8, color="white" if dark else "black")
    _tick_labels(ax.set_xticks, tags)
    ax.set_yticks(range(len(systems)), systems)
    ax.set_xlabel("tag")
    ax.set_ylabel("system")
    ax.set_title(f"{metric} by tag ({_direction(data, metric)})")
    fig.colorbar(image, ax=ax, label=metric)
    return fig


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-") or "metric"


def planned_charts(data: RunData) -> list[tuple[str, str, Callable[[], Any]]]:
    """(file name, title, figure factory) for every chart this run has data for."""
    plans: list[tuple[str, str, Callable[[], Any]]] = []
    main = data.main_metrics()
    for metric in main[:CHART_METRICS_LIMIT]:
        plans.append((f"metric_{slug(metric)}.png", f"{metric} by system", partial(plot_metric, data, metric)))
    if latency_parts(data):
        plans.append(("latency.png", "Latency", partial(plot_latency, data)))
    quality = data.headline()
    for cost, name in (("latency_s", "latency"), ("cost_usd", "cost")):
        if quality and any(data.mean(s, quality) is not None and data.mean(s, cost) is not None for s in data.systems):
            plans.append((f"tradeoff_{name}.png", f"{quality} vs {cost}", partial(plot_tradeoff, data, quality, cost)))
    if data.tags():
        for metric in main[:TAG_CHARTS_LIMIT]:
            plans.append((f"tags_{slug(metric)}.png", f"{metric} by tag", partial(plot_tags, data, metric)))
    return plans


def charts_left_out(data: RunData) -> list[str]:
    """Quality metrics without a bar chart of their own (the tables show every metric)."""
    return data.main_metrics()[CHART_METRICS_LIMIT:]


def render_charts(data: RunData, folder: Path) -> list[tuple[Path, str, bytes]]:
    """Save every chart as PNG into `folder`; returns (path, title, png bytes) for the HTML report."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, title, make in planned_charts(data):
        figure = make()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})  # fast to write, ~25% larger
        png = buffer.getvalue()
        path = folder / filename
        path.write_bytes(png)
        written.append((path, title, png))
    return written
