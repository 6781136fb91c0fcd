"""The Decision section's charts: where each system fails (stacked bars) and total cost against
monthly volume (the break-even). matplotlib Figures without pyplot, imported lazily."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from harness.decision.attribution import BUCKETS, COLOURS
from harness.decision.model import Decision

ATTRIBUTION_PNG = "decision_attribution.png"
BREAK_EVEN_PNG = "decision_break_even.png"
FILES = {"attribution": ATTRIBUTION_PNG, "break_even": BREAK_EVEN_PNG}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def plot_attribution(decision: Decision) -> Any:
    """One horizontal bar per system, split into the share of examples in each bucket."""
    rows = [a for a in decision.attribution if a.n]
    if not rows:
        raise ValueError("no system has scored examples to attribute")
    keys = [k for k in BUCKETS if any(b.key == k and b.count for a in rows for b in a.buckets)]
    fig = _figure(10.0, max(2.6, 0.5 * len(rows) + 1.8))
    ax = fig.add_subplot()
    left = [0.0] * len(rows)
    for key in keys:
        widths = [next((b.count for b in a.buckets if b.key == key), 0) / a.n for a in rows]
        ax.barh(range(len(rows)), widths, left=left, color=COLOURS[key], label=BUCKETS[key], height=0.6)
        left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(range(len(rows)), [a.system for a in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of examples (right/wrong by {decision.correctness or 'n/a'})")
    ax.set_title("Where each system fails")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return fig


def break_even_lines(decision: Decision) -> dict[str, tuple[float, float]]:
    """system -> (one-off USD, USD per query) for candidates with both known."""
    return {c.system: (c.one_off_usd, c.usd_per_query) for c in decision.costs.systems  # type: ignore[misc]
            if c.role not in (None, "oracle") and c.one_off_usd is not None and c.usd_per_query is not None}


def plot_break_even(decision: Decision) -> Any:
    """Total cost over the horizon against monthly queries, one line per system; the break-even
    points marked. Log-log: one-off costs dominate at low volume, per-query costs at high."""
    import numpy as np

    lines = break_even_lines(decision)
    if not lines or all(per_query == 0 for _, per_query in lines.values()) or \
            all(one_off == 0 for one_off, _ in lines.values()):
        raise ValueError("no trade-off to draw: no per-query cost, or no one-off cost")
    horizon = decision.costs.horizon_months
    points = [b.queries_per_month for b in decision.costs.break_even]
    low = min([1e2] + [p / 10 for p in points])
    high = max([1e6] + [p * 10 for p in points])
    volume = np.logspace(np.log10(low), np.log10(high), 200)
    fig = _figure(7.5, 4.6)
    ax = fig.add_subplot()
    free = [system for system, (one_off, per_query) in lines.items() if one_off == 0 and per_query == 0]
    for system, (one_off, per_query) in lines.items():
        if system not in free:  # a log axis has no room for $0; named below instead
            ax.plot(volume, one_off + per_query * volume * horizon, label=system)
    for b in decision.costs.break_even:
        if b.cheaper in lines:
            one_off, per_query = lines[b.cheaper]
            y = one_off + per_query * b.queries_per_month * horizon
            ax.plot([b.queries_per_month], [y], marker="o", color="#333333", markersize=5)
            ax.annotate(f"{b.cheaper} = {b.other}", (b.queries_per_month, y), xytext=(5, -10),
                        textcoords="offset points", fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if free:
        fig.text(0.01, 0.005, f"not shown (no cost at all): {', '.join(free)}", fontsize=7, color="#666666")
    ax.set_xlabel("queries per month")
    ax.set_ylabel(f"total cost over {horizon:g} months (USD)")
    ax.set_title("Total cost against volume (one-off + per query)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, frameon=False)
    return fig


def render_charts(decision: Decision, folder: Path | None = None) -> list[tuple[str, str, bytes]]:
    """(key, title, PNG bytes) of the charts this decision has data for; saved into `folder` too."""
    plans = [("attribution", "Where each system fails", FILES["attribution"], plot_attribution),
             ("break_even", "Total cost against monthly volume", FILES["break_even"], plot_break_even)]
    rendered = []
    for key, title, filename, plot in plans:
        try:
            figure = plot(decision)
        except ValueError:
            continue  # nothing to draw; the tables say why
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        png = buffer.getvalue()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / filename).write_bytes(png)
        rendered.append((key, title, png))
    return rendered
