"""A small SVG drawing kit for the report's charts: scales with readable ticks, panels with axes,
legends, and a `Chart` that saves itself and shows inline in Jupyter.

Charts are written as text, with no plotting library: a run's charts take milliseconds, so the
reports never wait on a renderer. Every mark carries a class and `data-*` attributes naming what
it shows (system, value), so tests and scripts can read a chart back, and a <title> child that
browsers show as a tooltip. Colours and sizes are presentation attributes, never `style`, so the
charts pass a strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
INK, MUTED, GRID = "#222222", "#666666", "#E3E3E3"


def text_width(text: str, size: float = 11) -> float:
    """Rough width in pixels of `text` in the chart font (enough to lay out margins)."""
    return len(text) * size * 0.58


def tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@dataclass
class Scale:
    """A numeric axis: `lo..hi` mapped onto pixels `start..end` (end < start for a y axis)."""

    lo: float
    hi: float
    log: bool = False
    start: float = 0.0
    end: float = 1.0

    def __call__(self, value: float) -> float:
        if self.log:
            value, lo, hi = math.log10(max(value, 1e-300)), math.log10(self.lo), math.log10(self.hi)
        else:
            lo, hi = self.lo, self.hi
        share = (value - lo) / (hi - lo) if hi != lo else 0.5
        return self.start + share * (self.end - self.start)

    def ticks(self, count: int = 6) -> list[float]:
        if self.log:
            first, last = math.floor(math.log10(self.lo) + 1e-9), math.ceil(math.log10(self.hi) - 1e-9)
            step = max(1, math.ceil((last - first + 1) / 8))
            return [10.0**k for k in range(first, last + 1, step) if self.lo * 0.999 <= 10.0**k <= self.hi * 1.001]
        step = nice_step((self.hi - self.lo) / max(count - 1, 1))
        first = math.ceil(self.lo / step - 1e-9) * step
        values, k = [], 0
        while first + k * step <= self.hi + step * 1e-9:
            values.append(round(first + k * step, 12))
            k += 1
        return values


def nice_step(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)


def scale_for(values: Sequence[float], *, log: bool = False, zero: bool = False, unit: bool = False,
              pad: float = 0.08) -> Scale:
    """A scale covering `values`: from 0 when `zero`, the whole 0..1 when `unit` and they fit,
    padded so no mark sits on the frame; log when asked and every value is positive."""
    finite = [v for v in values if math.isfinite(v)]
    if log and finite and all(v > 0 for v in finite):
        lo, hi = min(finite), max(finite)
        return Scale(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi) + (1e-9 if lo == hi else 0)), log=True)
    if unit and finite and all(0.0 <= v <= 1.0 for v in finite):
        return Scale(0.0, 1.0) if zero else Scale(-0.04, 1.04)
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or (abs(hi) or 1.0)
    lo = lo if zero and lo == 0 else lo - span * pad
    hi = hi if zero and hi == 0 else hi + span * pad
    step = nice_step(span / 5)
    return Scale(math.floor(lo / step + 1e-9) * step if not (zero and lo == 0) else 0.0,
                 math.ceil(hi / step - 1e-9) * step if not (zero and hi == 0) else 0.0)


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f" {key.rstrip('_').replace('_', '-')}={quoteattr(str(value))}")
    return "".join(parts)


class Canvas:
    """An SVG document being drawn; keyword attributes pass through (`class_`, `data_system`)."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.parts: list[str] = []

    def element(self, tag: str, attrs: dict[str, object], *, text: str | None = None, tip: str | None = None) -> None:
        inner = (f"<title>{escape(tip)}</title>" if tip else "") + (escape(text) if text is not None else "")
        self.parts.append(f"<{tag}{_attrs(attrs)}>{inner}</{tag}>" if inner else f"<{tag}{_attrs(attrs)}/>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, tip: str | None = None, **attrs: object) -> None:
        if w < 0:
            x, w = x + w, -w
        if h < 0:
            y, h = y + h, -h
        self.element("rect", {"x": float(x), "y": float(y), "width": float(w), "height": float(h), "fill": fill, **attrs}, tip=tip)

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = INK, width: float = 1.0,
             **attrs: object) -> None:
        self.element("line", {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2), "stroke": stroke,
                              "stroke_width": float(width), **attrs})

    def path(self, points: Sequence[tuple[float, float]], stroke: str = INK, width: float = 1.5, *,
             tip: str | None = None, **attrs: object) -> None:
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
        self.element("path", {"d": d, "fill": "none", "stroke": stroke, "stroke_width": float(width), **attrs}, tip=tip)

    def circle(self, x: float, y: float, r: float, fill: str, *, tip: str | None = None, **attrs: object) -> None:
        self.element("circle", {"cx": float(x), "cy": float(y), "r": float(r), "fill": fill, **attrs}, tip=tip)

    def text(self, x: float, y: float, text: str, *, size: float = 11, anchor: str = "start", fill: str = INK,
             rotate: float | None = None, bold: bool = False, **attrs: object) -> None:
        self.element("text", {"x": float(x), "y": float(y), "font_size": size, "text_anchor": anchor, "fill": fill,
                              "font_weight": "bold" if bold else None,
                              "transform": f"rotate({rotate:g} {x:.1f} {y:.1f})" if rotate else None, **attrs},
                     text=text)

    def legend(self, x: float, y: float, items: Sequence[tuple[str, str]], *, title: str | None = None,
               marker: str = "box") -> float:
        """Colour keys stacked from (x, y); returns the y below the last one."""
        if title:
            self.text(x, y + 10, title, size=10, fill=MUTED, class_="legend-title")
            y += 16
        for colour, label in items:
            if marker == "line":
                self.line(x, y + 6, x + 16, y + 6, stroke=colour, width=2)
            else:
                self.rect(x, y, 12, 12, colour)
            self.text(x + 20, y + 10, label, size=10, class_="legend", data_label=label)
            y += 17
        return y

    def svg(self, title: str) -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" height="{self.height:.0f}" '
                f'viewBox="0 0 {self.width:.0f} {self.height:.0f}" font-family={quoteattr(FONT)} role="img">'
                f"<title>{escape(title)}</title>"
                f'<rect width="100%" height="100%" fill="#FFFFFF"/>')
        return head + "".join(self.parts) + "</svg>\n"


@dataclass
class Frame:
    """A plot area on a canvas: pixel box plus its axes (numeric `Scale`s or category lists)."""

    canvas: Canvas
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x_scale(self, scale: Scale) -> Scale:
        scale.start, scale.end = self.left, self.right
        return scale

    def y_scale(self, scale: Scale) -> Scale:
        scale.start, scale.end = self.bottom, self.top
        return scale

    def band(self, count: int, index: int, *, vertical: bool = False) -> tuple[float, float]:
        """(centre, width) of category `index` of `count` along x (or down y when `vertical`)."""
        size = (self.height if vertical else self.width) / max(count, 1)
        return (self.top if vertical else self.left) + size * (index + 0.5), size

    def x_axis(self, scale: Scale | None, label: str, *, categories: Sequence[str] = (), grid: bool = False) -> None:
        c = self.canvas
        c.line(self.left, self.bottom, self.right, self.bottom, stroke=INK)
        if scale is not None:
            for value in scale.ticks():
                x = scale(value)
                if grid:
                    c.line(x, self.top, x, self.bottom, stroke=GRID, class_="grid")
                c.line(x, self.bottom, x, self.bottom + 4, stroke=INK)
                c.text(x, self.bottom + 16, tick_label(value), size=10, anchor="middle", class_="tick")
        slant = len(categories) > 4
        for i, name in enumerate(categories):
            x, _ = self.band(len(categories), i)
            if slant:
                c.text(x, self.bottom + 14, name, size=10, anchor="end", rotate=-25, class_="tick")
            else:
                c.text(x, self.bottom + 16, name, size=10, anchor="middle", class_="tick")
        drop = 34 + (max((text_width(n, 10) for n in categories), default=0) * 0.42 if slant else 0)
        c.text((self.left + self.right) / 2, self.bottom + drop, label, anchor="middle", class_="axis-label")

    def y_axis(self, scale: Scale | None, label: str, *, categories: Sequence[str] = (), grid: bool = False) -> None:
        c = self.canvas
        c.line(self.left, self.top, self.left, self.bottom, stroke=INK)
        widest = 0.0
        if scale is not None:
            for value in scale.ticks():
                y = scale(value)
                if grid:
                    c.line(self.left, y, self.right, y, stroke=GRID, class_="grid")
                c.line(self.left - 4, y, self.left, y, stroke=INK)
                c.text(self.left - 7, y + 3.5, tick_label(value), size=10, anchor="end", class_="tick")
                widest = max(widest, text_width(tick_label(value), 10))
        for i, name in enumerate(categories):
            y, _ = self.band(len(categories), i, vertical=True)
            c.text(self.left - 7, y + 3.5, name, size=10, anchor="end", class_="tick")
            widest = max(widest, text_width(name, 10))
        if label:
            x = self.left - widest - 16
            c.text(x, (self.top + self.bottom) / 2, label, anchor="middle", rotate=-90, class_="axis-label")

    def title(self, text: str) -> None:
        self.canvas.text((self.left + self.right) / 2, self.top - 10, text, size=12.5, anchor="middle", bold=True,
                         class_="chart-title")


def place_label(taken: list[tuple[float, float, float, float]], cx: float, cy: float, width: float,
                 frame: Frame) -> tuple[float, float, str]:
    """Where a point's label goes: the first spot around it inside the frame that overlaps no
    point or earlier label (else the one that overlaps fewest); the spot is then taken."""
    spots = [(9, -6), (9, 12), (-9, -6), (-9, 12), (-width / 2, -12), (-width / 2, 22)]
    spots += [(dx, dy + k * 13) for k in (-2, 2, -3, 3, -4, 4) for dx, dy in ((9, -6), (-9, -6))]
    best: tuple[int, tuple[float, float, float, float]] | None = None
    for dx, dy in spots:
        start = cx + dx - (width if dx < 0 and dx != -width / 2 else 0)
        box = (start, cy + dy - 10, start + width, cy + dy + 2)
        if not (frame.left <= box[0] and box[2] <= frame.right + 20 and frame.top <= box[1] and box[3] <= frame.bottom):
            continue
        clashes = sum(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken)
        if best is None or clashes < best[0]:
            best = (clashes, box)
        if not clashes:
            break
    box = best[1] if best is not None else (cx + 9, cy - 16, cx + 9 + width, cy - 4)
    taken.append(box)
    return (box[0], box[3] - 2, "start")


def left_margin(labels: Sequence[str], *, axis_label: bool = True) -> float:
    return 14 + max((text_width(s, 10) for s in labels), default=0) + (24 if axis_label else 6)


def figure_html(title: str, svg: bytes) -> str:
    """A chart for an HTML page, as an <img> data URI: an SVG shown as an image runs no script
    and loads nothing, whatever names the run put in it."""
    data = base64.b64encode(svg).decode("ascii")
    alt = html.escape(title)
    return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'


@dataclass
class Chart:
    """One drawn chart: SVG text and its title. Jupyter shows it inline; `save` writes it."""

    title: str
    svg: str

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(self.svg, encoding="utf-8")
        return target

    def __str__(self) -> str:
        return self.svg
