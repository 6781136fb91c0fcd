"""The Decision section's charts: where each system fails (stacked bars) and total cost against
monthly volume (the break-even). SVG (`harness.charts.svg`), drawn in milliseconds."""

from __future__ import annotations

import math
from pathlib import Path

from harness.decision.attribution import BUCKETS, COLOURS
from harness.decision.model import Decision
from harness.charts.svg import (MUTED, Canvas, Chart, Frame, Scale, left_margin, place_label, scale_for, text_width,
                                tick_label)

ATTRIBUTION_SVG = "decision_attribution.svg"
BREAK_EVEN_SVG = "decision_break_even.svg"
FILES = {"attribution": ATTRIBUTION_SVG, "break_even": BREAK_EVEN_SVG}
LINE_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def plot_attribution(decision: Decision) -> Chart:
    """One horizontal bar per system, split into the share of examples in each bucket."""
    rows = [a for a in decision.attribution if a.n]
    if not rows:
        raise ValueError("no system has scored examples to attribute")
    keys = [k for k in BUCKETS if any(b.key == k and b.count for a in rows for b in a.buckets)]
    names = [a.system for a in rows]
    legend = 40 + max(text_width(BUCKETS[k], 10) for k in keys) if keys else 0
    left = left_margin(names, axis_label=False)
    canvas = Canvas(max(760.0, left + 420 + legend), max(160.0, 30.0 * len(rows) + 100, 17.0 * len(keys) + 70))
    frame = Frame(canvas, left, 36, canvas.width - left - legend - 16, 30.0 * len(rows))
    x = frame.x_scale(Scale(0.0, 1.0))
    frame.x_axis(x, f"share of examples (right/wrong by {decision.correctness or 'n/a'})", grid=True)
    for i, row in enumerate(rows):
        centre, band = frame.band(len(rows), i, vertical=True)
        start = 0.0
        for key in keys:
            count = next((b.count for b in row.buckets if b.key == key), 0)
            share = count / row.n
            if share:
                canvas.rect(x(start), centre - band * 0.3, x(start + share) - x(start), band * 0.6, COLOURS[key],
                            class_="segment", data_system=row.system, data_bucket=key, data_value=repr(share),
                            tip=f"{row.system}: {BUCKETS[key]} {count}/{row.n}")
            start += share
    frame.y_axis(None, "", categories=names)
    frame.title("Where each system fails")
    canvas.legend(frame.right + 16, frame.top, [(COLOURS[k], BUCKETS[k]) for k in keys])
    return Chart("Where each system fails", canvas.svg("Where each system fails"))


def break_even_lines(decision: Decision) -> dict[str, tuple[float, float]]:
    """system -> (one-off USD, USD per query) for candidates with both known."""
    return {c.system: (c.one_off_usd, c.usd_per_query) for c in decision.costs.systems  # type: ignore[misc]
            if c.role not in (None, "oracle") and c.one_off_usd is not None and c.usd_per_query is not None}


def plot_break_even(decision: Decision) -> Chart:
    """Total cost over the horizon against monthly queries, one line per system; the break-even
    points marked. Log-log: one-off costs dominate at low volume, per-query costs at high."""
    lines = break_even_lines(decision)
    if not lines or all(per_query == 0 for _, per_query in lines.values()) or \
            all(one_off == 0 for one_off, _ in lines.values()):
        raise ValueError("no trade-off to draw: no per-query cost, or no one-off cost")
    horizon = decision.costs.horizon_months
    points = [b.queries_per_month for b in decision.costs.break_even]
    low = min([1e2] + [p / 10 for p in points])
    high = max([1e6] + [p * 10 for p in points])
    volume = [10 ** (math.log10(low) + (math.log10(high) - math.log10(low)) * k / 120) for k in range(121)]
    free = [system for system, (one_off, per_query) in lines.items() if one_off == 0 and per_query == 0]
    drawn = {s: v for s, v in lines.items() if s not in free}  # a log axis has no room for $0; named below
    totals = {s: [one_off + per_query * q * horizon for q in volume] for s, (one_off, per_query) in drawn.items()}
    legend = 40 + max(text_width(s, 10) for s in drawn)
    canvas = Canvas(760 + legend - 60, 460)
    y_scale = scale_for([v for series in totals.values() for v in series if v > 0], log=True)
    frame = Frame(canvas, left_margin([tick_label(v) for v in y_scale.ticks()]), 36, 0, 0)
    frame.width, frame.height = canvas.width - frame.left - legend - 16, canvas.height - 36 - 70
    x = frame.x_scale(Scale(low, high, log=True))
    y = frame.y_scale(y_scale)
    frame.x_axis(x, "queries per month", grid=True)
    frame.y_axis(y, f"total cost over {horizon:g} months (USD)", grid=True)
    colours = {s: LINE_COLOURS[i % len(LINE_COLOURS)] for i, s in enumerate(drawn)}
    for system, series in totals.items():
        shown = [(x(q), y(v)) for q, v in zip(volume, series) if v > 0]
        canvas.path(shown, stroke=colours[system], width=2, class_="cost-line", data_system=system,
                    tip=f"{system}: ${drawn[system][0]:g} one-off + ${drawn[system][1]:g} per query")
    marked = []
    for b in decision.costs.break_even:
        if b.cheaper in lines and b.cheaper in drawn:
            one_off, per_query = lines[b.cheaper]
            total = one_off + per_query * b.queries_per_month * horizon
            if total > 0:
                marked.append((x(b.queries_per_month), y(total), f"{b.cheaper} = {b.other}"))
                canvas.circle(marked[-1][0], marked[-1][1], 4, "#333333", class_="break-even",
                              data_queries=repr(b.queries_per_month), tip=marked[-1][2])
    taken = [(px - 4, py - 4, px + 4, py + 4) for px, py, _ in marked]
    for px, py, label in marked:
        lx, ly, _ = place_label(taken, px, py, text_width(label, 9), frame)
        canvas.text(lx, ly, label, size=9, class_="label")
    frame.title("Total cost against volume (one-off + per query)")
    canvas.legend(frame.right + 16, frame.top, [(colours[s], s) for s in drawn], marker="line")
    if free:
        canvas.text(8, canvas.height - 8, f"not shown (no cost at all): {', '.join(free)}", size=9, fill=MUTED,
                    class_="omitted")
    return Chart("Total cost against monthly volume", canvas.svg("Total cost against volume"))


def render_charts(decision: Decision, folder: Path | None = None) -> list[tuple[str, str, bytes]]:
    """(key, title, SVG bytes) of the charts this decision has data for; saved into `folder` too."""
    plans = [("attribution", FILES["attribution"], plot_attribution),
             ("break_even", FILES["break_even"], plot_break_even)]
    rendered = []
    for key, filename, plot in plans:
        try:
            chart = plot(decision)
        except ValueError:
            continue  # nothing to draw; the tables say why
        svg = chart.svg.encode("utf-8")
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / filename).write_bytes(svg)
        rendered.append((key, chart.title, svg))
    return rendered
