"""The trend chart's geometry: one line per system through its runs, with CI whiskers.

Only numbers and fixed colours are computed here; the template draws the SVG and escapes every
label (system names, commits), so no string from a run becomes markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.types import MetricInfo

WIDTH, HEIGHT = 900, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 48, 16, 56
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
MAX_X_TICKS = 8


@dataclass
class Point:
    x: float
    y: float
    low: float | None
    high: float | None
    run_id: str
    title: str


@dataclass
class Series:
    system: str
    colour: str
    path: str
    points: list[Point] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    plot: tuple[int, int, int, int]  # left, top, right, bottom
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    x_label: str
    y_label: str


def _time(stamp: str) -> float:
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0.0


def colours(systems: list[str], kinds: dict[str, str]) -> dict[str, str]:
    """The kind's colour, as on the run page; a second system of a kind takes a spare colour."""
    from harness.report.data import kind_colour

    out: dict[str, str] = {}
    spare = iter(PALETTE * 4)
    for system in systems:
        colour = kind_colour(kinds.get(system, "unknown"))
        out[system] = colour if colour not in out.values() else next(c for c in spare if c not in out.values())
    return out


def chart(points: list[dict[str, Any]], systems: list[str], info: MetricInfo, *, by: str,
          kinds: dict[str, str] | None = None) -> Chart:
    """`points` are trend rows (run, time, commit, system, mean, CI), oldest first."""
    from harness.view.site import number

    palette = colours(systems, kinds or {})
    runs = list(dict.fromkeys(p["run_id"] for p in points))
    first = {p["run_id"]: p for p in reversed(points)}
    if by == "commit":
        position = {run: float(i) for i, run in enumerate(runs)}
    else:
        position = {run: _time(first[run]["started_at"]) for run in runs}
    xs = list(position.values())
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_min, x_max = x_min - 1, x_max + 1
    values = [v for p in points for v in (p["mean"], p["ci_low"], p["ci_high"]) if v is not None]
    y_min, y_max = (min(values), max(values)) if values else (0.0, 1.0)
    if info.unit is None and values and 0.0 <= y_min and y_max <= 1.0:
        y_min, y_max = 0.0, 1.0  # a 0..1 score: the whole scale, so small changes do not look large
    else:
        if y_max == y_min:
            y_min, y_max = y_min - 0.5, y_max + 0.5
        pad = (y_max - y_min) * 0.05
        y_min, y_max = y_min - pad, y_max + pad
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM

    def sx(x: float) -> float:
        return round(left + (x - x_min) / (x_max - x_min) * (right - left), 1)

    def sy(y: float) -> float:
        return round(bottom - (y - y_min) / (y_max - y_min) * (bottom - top), 1)

    series = []
    for system in systems:
        mine = [p for p in points if p["system"] == system and p["mean"] is not None]
        drawn = [
            Point(sx(position[p["run_id"]]), sy(p["mean"]), sy(p["ci_low"]) if p["ci_low"] is not None else None,
                  sy(p["ci_high"]) if p["ci_high"] is not None else None, p["run_id"],
                  f"{system}: {number(p['mean'], info)} (run {p['run_id'][:8]}, {(p['git_commit'] or 'no commit')[:8]}, "
                  f"{p['started_at'][:16].replace('T', ' ')})")
            for p in mine
        ]
        path = " ".join(f"{'M' if j == 0 else 'L'}{pt.x},{pt.y}" for j, pt in enumerate(drawn))
        series.append(Series(system, palette[system], path, drawn))
    step = max(1, -(-len(runs) // MAX_X_TICKS))
    if by == "commit":
        x_ticks = [(sx(position[r]), (first[r]["git_commit"] or "?")[:8]) for r in runs[::step]]
    else:
        x_ticks = [(sx(position[r]), first[r]["started_at"][:10]) for r in runs[::step]]
    y_ticks = [(sy(y_min + (y_max - y_min) * k / 4), number(y_min + (y_max - y_min) * k / 4, info)) for k in range(5)]
    return Chart(WIDTH, HEIGHT, (left, top, right, bottom), x_ticks, y_ticks, series,
                 "commit (latest run of each)" if by == "commit" else "run start (UTC)", "")
