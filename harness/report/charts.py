"""The run's charts as SVG (`harness.charts.svg`): metric bars with CIs, the latency distribution
and split, quality against latency and cost with the Pareto front, and metrics by tag.

Each `plot_*` returns a `Chart` (Jupyter shows it inline); harness.report.chart_files saves them
into the run's charts/ folder. Colours follow the system kind (see data.KIND_COLOURS) so a kind looks the
same everywhere. Marks carry `data-system`/`data-value` attributes, so what a chart shows can be
read back from the file.
"""

from __future__ import annotations

import statistics
from typing import Sequence

from harness.report.data import RunData, kind_colour, pareto_front
from harness.charts.svg import MUTED, Canvas, Chart, Frame, left_margin, place_label, scale_for, text_width

SEGMENTS = {"retrieval": "#2A9D8F", "generation": "#E9C46A", "other / not split": "#BBBBBB"}
VIRIDIS = ["#440154", "#3B528B", "#21918C", "#5EC962", "#FDE725"]
NA_FILL = "#DDDDDD"


def _direction(data: RunData, metric: str) -> str:
    return "lower is better" if data.lower_is_better(metric) else "higher is better"


def _check_metric(data: RunData, metric: str) -> None:
    if metric not in data.metrics:
        raise ValueError(f"no metric {metric!r} in this run (it has: {', '.join(data.metrics) or 'none'})")


def _kind_legend(canvas: Canvas, data: RunData, systems: Sequence[str], x: float, y: float) -> None:
    kinds = list(dict.fromkeys(data.kinds[s] for s in systems))
    canvas.legend(x, y, [(kind_colour(k), k) for k in kinds], title="kind")


def _legend_width(labels: Sequence[str]) -> float:
    return 40 + max((text_width(s, 10) for s in labels), default=0)


def plot_metric(data: RunData, metric: str) -> Chart:
    """One bar per system with its CI; systems with no defined value say n/a instead of a bar."""
    _check_metric(data, metric)
    systems, colours = data.systems, data.colours()
    cells = {s: data.cell(s, metric) for s in systems}
    values = [v for s in systems if (c := cells[s]) and c["mean"] is not None
              for v in (c["mean"], c["ci_low"], c["ci_high"]) if v is not None]
    unit = bool(values) and not data.lower_is_better(metric) and all(0.0 <= v <= 1.0 for v in values)
    y = scale_for(values, zero=True, unit=unit)
    if unit:
        y.hi = 1.12
    legend = _legend_width(list(data.kinds.values()) + ["kind"])
    slant = len(systems) > 4
    left = left_margin([f"{v:.6g}" for v in y.ticks()])
    bottom = 50 + (max(text_width(s, 10) for s in systems) * 0.42 if slant and systems else 0)
    width = max(520.0, 90.0 * len(systems) + left + legend + 40)
    canvas = Canvas(width, 380 + bottom - 50)
    frame = Frame(canvas, left, 36, width - left - legend - 16, canvas.height - 36 - bottom)
    y = frame.y_scale(y)
    frame.y_axis(y, f"{metric} ({_direction(data, metric)})", grid=True)
    for i, system in enumerate(systems):
        centre, band = frame.band(len(systems), i)
        row = cells[system]
        if row is None or row["mean"] is None:
            canvas.text(centre, y(0) - 5, "n/a", size=10, anchor="middle", fill=MUTED, class_="na", data_system=system)
            continue
        mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
        half = band * 0.65 / 2
        ci = f" (95% CI {data.fmt(metric, low)}–{data.fmt(metric, high)})" if low is not None and high is not None else ""
        canvas.rect(centre - half, y(0), 2 * half, y(mean) - y(0), colours[system], class_="bar",
                    data_system=system, data_value=repr(float(mean)), tip=f"{system}: {data.fmt(metric, mean)}{ci}")
        if low is not None and high is not None:
            canvas.line(centre, y(low), centre, y(high), class_="ci", data_system=system)
            for end in (low, high):
                canvas.line(centre - 5, y(end), centre + 5, y(end))
        canvas.text(centre + 5, y(mean) - 4, data.fmt(metric, mean), size=10, class_="value")
    frame.x_axis(None, "system", categories=systems)
    frame.title(f"{metric}: mean with 95% CI")
    _kind_legend(canvas, data, systems, frame.right + 16, frame.top)
    return Chart(f"{metric} by system", canvas.svg(f"{metric}: mean with 95% CI"))


def latency_parts(data: RunData) -> dict[str, dict[str, object]]:
    """Per system: total seconds per successful sample, and mean retrieval/generation seconds."""
    return data.latency()


def _box(values: Sequence[float]) -> tuple[float, float, float, float, float, list[float]]:
    """(whisker low, q1, median, q3, whisker high, outliers): whiskers at 1.5 IQR, as is usual."""
    ordered = sorted(values)
    if len(ordered) == 1:
        v = ordered[0]
        return v, v, v, v, v, []
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    reach = 1.5 * (q3 - q1)
    inside = [v for v in ordered if q1 - reach <= v <= q3 + reach]
    outliers = [v for v in ordered if v < q1 - reach or v > q3 + reach]
    return inside[0], q1, median, q3, inside[-1], outliers


def plot_latency(data: RunData) -> Chart:
    """Left: distribution of total latency per system. Right: where the time goes, on average."""
    parts = latency_parts(data)
    if not parts:
        raise ValueError("no successful samples with timings in this run")
    systems, colours = list(parts), data.colours()
    rows = 34.0 * len(systems)
    left = left_margin(systems)
    canvas = Canvas(1000, rows + 112)
    panel = (canvas.width - left - 60) / 2
    boxes = Frame(canvas, left, 36, panel, rows)
    split = Frame(canvas, left + panel + 40, 36, panel, rows)
    stats = {s: _box(list(parts[s]["total"])) for s in systems}  # type: ignore[arg-type]
    extremes = [v for s in systems for v in (min(stats[s][0], *stats[s][5] or [stats[s][0]]),
                                             max(stats[s][4], *stats[s][5] or [stats[s][4]]))]
    positives = [v for v in extremes if v > 0]
    log = len(positives) == len(extremes) and bool(positives) and max(positives) / min(positives) > 50
    x = boxes.x_scale(scale_for(extremes, log=log))
    boxes.x_axis(x, "total latency per sample (s)", grid=True)
    for i, system in enumerate(systems):
        centre, band = boxes.band(len(systems), i, vertical=True)
        low, q1, median, q3, high, outliers = stats[system]
        half = band * 0.3
        canvas.line(x(low), centre, x(q1), centre)
        canvas.line(x(q3), centre, x(high), centre)
        canvas.rect(x(q1), centre - half, x(q3) - x(q1), 2 * half, colours[system], class_="box", data_system=system,
                    data_median=repr(median), stroke="#333333",
                    tip=f"{system}: median {median:.3g} s, quartiles {q1:.3g}–{q3:.3g} s, n={len(parts[system]['total'])}")  # type: ignore[arg-type]
        canvas.line(x(median), centre - half, x(median), centre + half, stroke="#111111", width=2)
        shown = {round(x(v)) for v in outliers}  # one dot per pixel: bounded however many samples
        for px in sorted(shown):
            canvas.circle(px, centre, 2.5, "none", stroke="#555555", class_="outlier")
    boxes.y_axis(None, "system", categories=systems)
    boxes.title("latency distribution")
    widths: dict[str, list[float]] = {segment: [] for segment in SEGMENTS}
    for system in systems:
        p = parts[system]
        total = sum(p["total"]) / len(p["total"]) if len(p["total"]) else 0.0  # type: ignore[arg-type]
        widths["retrieval"].append(float(p["retrieval"]))  # type: ignore[arg-type]
        widths["generation"].append(float(p["generation"]))  # type: ignore[arg-type]
        widths["other / not split"].append(max(total - float(p["retrieval"]) - float(p["generation"]), 0.0))  # type: ignore[arg-type]
    ends = [sum(w[i] for w in widths.values()) for i in range(len(systems))]
    sx = split.x_scale(scale_for(ends, zero=True))
    split.x_axis(sx, "mean seconds per sample", grid=True)
    for i, system in enumerate(systems):
        centre, band = split.band(len(systems), i, vertical=True)
        start = 0.0
        for segment, colour in SEGMENTS.items():
            width = widths[segment][i]
            canvas.rect(sx(start), centre - band * 0.3, sx(start + width) - sx(start), band * 0.6, colour,
                        class_="segment", data_segment=segment, data_system=system, data_value=repr(width),
                        tip=f"{system}: {segment} {width:.3g} s")
            start += width
    split.y_axis(None, "", categories=[])
    split.title("retrieval vs generation")
    x0 = split.left
    for segment, colour in SEGMENTS.items():
        canvas.rect(x0, split.bottom + 46, 12, 12, colour)
        canvas.text(x0 + 18, split.bottom + 56, segment, size=10, class_="legend", data_label=segment)
        x0 += 36 + text_width(segment, 10)
    return Chart("Latency", canvas.svg("Latency: distribution and split"))


def plot_tradeoff(data: RunData, quality: str, cost: str = "latency_s") -> Chart:
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
    colours, names = data.colours(), list(points)
    xs, ys = [points[n][0] for n in names], [points[n][1] for n in names]
    bounds = ys + [v for n in names for v in ci[n] if v is not None]
    unit = not data.lower_is_better(quality) and all(0.0 <= v <= 1.0 for v in bounds)
    log = all(v > 0 for v in xs) and max(xs) / min(xs) > 50
    canvas = Canvas(680, 460)
    y_scale = scale_for(bounds, unit=unit)
    frame = Frame(canvas, left_margin([f"{v:.6g}" for v in y_scale.ticks()]), 36, 0, 0)
    frame.width, frame.height = canvas.width - frame.left - 24, canvas.height - 36 - 70
    x = frame.x_scale(scale_for(xs, log=log, pad=0.15))
    y = frame.y_scale(y_scale)
    frame.x_axis(x, f"{cost} ({_direction(data, cost)})", grid=True)
    frame.y_axis(y, f"{quality} ({_direction(data, quality)})", grid=True)
    front = pareto_front(points, not data.lower_is_better(quality), not data.lower_is_better(cost))
    steps: list[tuple[float, float]] = []
    for name in front:
        px, py = x(points[name][0]), y(points[name][1])
        if steps:
            steps.append((px, steps[-1][1]))
        steps.append((px, py))
    canvas.path(steps, stroke="#333333", width=1.2, stroke_dasharray="5 4", class_="pareto",
                data_systems=",".join(front), tip="Pareto front: nothing is better on both axes")
    for name in front:
        canvas.circle(x(points[name][0]), y(points[name][1]), 11, "none", stroke="#333333", class_="front-mark")
    for name in names:
        cx, cy = x(points[name][0]), y(points[name][1])
        low, high = ci[name]
        if low is not None and high is not None:
            canvas.line(cx, y(low), cx, y(high), stroke="#999999")
        canvas.circle(cx, cy, 6, colours[name], stroke="#333333", class_="point", data_system=name,
                      data_x=repr(points[name][0]), data_y=repr(points[name][1]),
                      tip=f"{name}: {quality} {data.fmt(quality, points[name][1])}, {cost} {data.fmt(cost, points[name][0])}")
    taken: list[tuple[float, float, float, float]] = [(x(p[0]) - 6, y(p[1]) - 6, x(p[0]) + 6, y(p[1]) + 6)
                                                      for p in points.values()]
    for name in names:
        lx, ly, anchor = place_label(taken, x(points[name][0]), y(points[name][1]), text_width(name, 10.5), frame)
        canvas.text(lx, ly, name, size=10.5, anchor=anchor, class_="label", data_system=name)
    frame.title(f"{quality} vs {cost}")
    canvas.line(frame.right - 150, frame.top + 12, frame.right - 132, frame.top + 12, stroke="#333333",
                stroke_dasharray="5 4")
    canvas.text(frame.right - 126, frame.top + 16, "Pareto front", size=10, class_="legend")
    if omitted:
        canvas.text(8, canvas.height - 8, f"not shown (no value): {', '.join(omitted)}", size=9, fill=MUTED,
                    class_="omitted")
    return Chart(f"{quality} vs {cost}", canvas.svg(f"{quality} vs {cost}"))


def _colour(share: float, palette: Sequence[str] = VIRIDIS) -> str:
    """A colour from `palette` at `share` (0..1), interpolated between its stops."""
    share = min(max(share, 0.0), 1.0) * (len(palette) - 1)
    i = min(int(share), len(palette) - 2)
    a, b = palette[i], palette[i + 1]
    mix = [round(int(a[k : k + 2], 16) + (int(b[k : k + 2], 16) - int(a[k : k + 2], 16)) * (share - i)) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02X}" for c in mix)


def plot_tags(data: RunData, metric: str) -> Chart:
    """System x tag grid of one metric's mean, coloured on its range; grey n/a where none is defined."""
    _check_metric(data, metric)
    tags = data.tags()
    if not tags:
        raise ValueError("the examples in this run have no tags")
    systems, means = data.systems, data.tag_means(metric)
    values = [m for s in systems for t in tags if (m := means[s][t][0]) is not None]
    lower = data.lower_is_better(metric)
    unit = not lower and all(0.0 <= v <= 1.0 for v in values)
    lo, hi = (0.0, 1.0) if unit else ((min(values), max(values)) if values else (0.0, 1.0))
    cell_w, cell_h = max(64.0, max(text_width(t, 10) for t in tags) + 12), 30.0
    left = left_margin(systems)
    canvas = Canvas(left + cell_w * len(tags) + 120, 36 + cell_h * len(systems) + 62)
    frame = Frame(canvas, left, 36, cell_w * len(tags), cell_h * len(systems))
    for i, system in enumerate(systems):
        for j, tag in enumerate(tags):
            mean, n = means[system][tag]
            x0, y0 = frame.left + j * cell_w, frame.top + i * cell_h
            if mean is None:
                canvas.rect(x0, y0, cell_w, cell_h, NA_FILL, class_="cell", data_system=system, data_tag=tag,
                            tip=f"{system}, {tag}: no value")
                canvas.text(x0 + cell_w / 2, y0 + cell_h / 2 + 4, "n/a", size=10, anchor="middle", fill=MUTED)
                continue
            share = (mean - lo) / (hi - lo) if hi != lo else 0.5
            share = 1 - share if lower else share  # bright is better either way
            canvas.rect(x0, y0, cell_w, cell_h, _colour(share), class_="cell", data_system=system, data_tag=tag,
                        data_value=repr(mean), tip=f"{system}, {tag}: {data.fmt(metric, mean)} (n={n})")
            canvas.text(x0 + cell_w / 2, y0 + cell_h / 2 + 4, data.fmt(metric, mean), size=10, anchor="middle",
                        fill="#FFFFFF" if share < 0.5 else "#000000")
    frame.x_axis(None, "tag", categories=tags)
    frame.y_axis(None, "system", categories=systems)
    frame.title(f"{metric} by tag ({_direction(data, metric)})")
    bar_x = frame.right + 24
    for k in range(20):
        share = k / 19
        canvas.rect(bar_x, frame.bottom - (k + 1) * frame.height / 20, 14, frame.height / 20 + 0.5,
                    _colour(1 - share if lower else share))
    for value, y in ((lo, frame.bottom), (hi, frame.top + 8)):
        canvas.text(bar_x + 20, y, data.fmt(metric, value), size=10, class_="tick")
    return Chart(f"{metric} by tag", canvas.svg(f"{metric} by tag"))
