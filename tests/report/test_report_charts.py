"""Charts read back from their SVG: the marks' data attributes, labels, colours and counts, not
just that a file exists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.chart_files import render_charts
from harness.report.charts import plot_latency, plot_metric, plot_tags, plot_tradeoff
from harness.report.data import RunData, kind_colour
from harness.charts.svg import Scale, scale_for, tick_label
from tests.report.test_report_data import make_run

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def data(tmp_path: Path) -> RunData:
    return RunData.load(make_run(tmp_path / "run"))


def marks(chart, cls: str) -> list[ET.Element]:
    root = ET.fromstring(chart.svg)
    return [e for e in root.iter() if e.get("class") == cls]


def texts(chart, cls: str | None = None) -> list[str]:
    root = ET.fromstring(chart.svg)
    return [e.text or "" for e in root.iter(f"{SVG}text") if cls is None or e.get("class") == cls]


def test_metric_bars_with_ci_and_kind_colours(data):
    chart = plot_metric(data, "exact_match")
    bars = marks(chart, "bar")
    assert [b.get("data-system") for b in bars] == ["plain", "rag", "oracle", "broken"]
    assert [round(float(b.get("data-value")), 3) for b in bars] == [0.5, 0.75, 0.5, 0.0]
    assert bars[1].get("fill") == data.colours()["rag"] and data.colours()["rag"] == kind_colour("rag")
    assert len(marks(chart, "ci")) == 4
    labels = texts(chart, "axis-label")
    assert "system" in labels and any("exact_match" in t and "higher is better" in t for t in labels)
    assert texts(chart, "chart-title") == ["exact_match: mean with 95% CI"]
    assert texts(chart, "legend") == ["prompt", "rag", "oracle", "custom"]
    heights = {b.get("data-system"): float(b.get("height")) for b in bars}
    assert heights["rag"] > heights["plain"] == heights["oracle"] > heights["broken"] == 0.0


def test_metric_bars_show_na_instead_of_a_zero_bar(data):
    chart = plot_metric(data, "recall@5")
    assert len(marks(chart, "bar")) == 1
    assert [e.get("data-system") for e in marks(chart, "na")] == ["plain", "oracle", "broken"]


def test_latency_distribution_and_split(data):
    chart = plot_latency(data)
    assert [b.get("data-system") for b in marks(chart, "box")] == ["plain", "rag", "oracle", "broken"]
    widths: dict[str, list[float]] = {}
    for segment in marks(chart, "segment"):
        widths.setdefault(segment.get("data-segment"), []).append(round(float(segment.get("data-value")), 3))
    assert widths == {"retrieval": [0.0, 0.2, 0.0, 0.0], "generation": [1.0, 0.3, 0.0, 0.0],
                      "other / not split": [0.0, 0.0, 2.0, 3.0]}
    assert texts(chart, "legend") == ["retrieval", "generation", "other / not split"]
    assert "total latency per sample (s)" in texts(chart, "axis-label")


def test_latency_box_is_the_quartiles_and_outliers_are_one_dot_per_pixel():
    from harness.report.charts import _box

    low, q1, median, q3, high, outliers = _box([1.0, 2.0, 3.0, 4.0, 5.0, 100.0, 100.0])
    assert (q1, median, q3) == (2.5, 4.0, 52.5) and outliers == [] and (low, high) == (1.0, 100.0)
    low, q1, median, q3, high, outliers = _box([1.0] * 20 + [2.0] * 20 + [50.0])
    assert outliers == [50.0] and high == 2.0


def test_tradeoff_marks_the_pareto_front(data):
    chart = plot_tradeoff(data, "exact_match", "cost_usd")
    points = marks(chart, "point")
    assert [p.get("data-system") for p in points] == ["plain", "rag", "oracle"]  # broken has no cost: said below
    front = marks(chart, "pareto")[0]
    assert front.get("data-systems") == "plain,rag"
    assert {(float(p.get("data-x")), float(p.get("data-y"))) for p in points if p.get("data-system") in ("plain", "rag")} \
        == {(0.001, 0.5), (0.002, 0.75)}
    assert any("cost_usd" in t and "lower is better" in t for t in texts(chart, "axis-label"))
    assert set(texts(chart, "label")) == {"plain", "rag", "oracle"}
    assert any("broken" in t for t in texts(chart, "omitted"))


def test_tradeoff_with_latency_front_is_the_dominating_system(data):
    chart = plot_tradeoff(data, "exact_match")
    assert marks(chart, "pareto")[0].get("data-systems") == "rag"
    assert [float(p.get("data-x")) for p in marks(chart, "point") if p.get("data-system") == "rag"] == [0.5]


def test_labels_of_coincident_points_do_not_overlap_when_there_is_room():
    from harness.charts.svg import Canvas, Frame, place_label

    frame = Frame(Canvas(600, 400), 50, 30, 500, 320)
    taken = [(294.0, 194.0, 306.0, 206.0)]  # six systems on one point in the middle
    boxes = []
    for name in ["prompt", "rag", "hybrid", "few_shot", "finetuned", "oracle"]:
        x, y, _ = place_label(taken, 300.0, 200.0, len(name) * 6.0, frame)
        boxes.append((x, y - 10, x + len(name) * 6.0, y + 2))
    for i, a in enumerate(boxes):
        assert frame.left <= a[0] and a[2] <= frame.right + 20 and frame.top <= a[1] and a[3] <= frame.bottom
        assert not (a[0] < 306 and 294 < a[2] and a[1] < 206 and 194 < a[3])  # not on the point
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_tag_heatmap_values_and_na(data):
    chart = plot_tags(data, "exact_match")
    cells = marks(chart, "cell")
    assert len(cells) == 16
    value = {(c.get("data-system"), c.get("data-tag")): c.get("data-value") for c in cells}
    assert float(value[("rag", "easy")]) == 1.0 and float(value[("plain", "easy")]) == 0.5
    assert value[("broken", "(untagged)")] is None and texts(chart).count("n/a") == 1
    ticks = texts(chart, "tick")
    assert ticks[:4] == ["easy", "numeric", "hard", "(untagged)"]
    assert ["plain", "rag", "oracle", "broken"] == ticks[4:8]


def test_unknown_metric_is_a_clear_error(data):
    with pytest.raises(ValueError, match="no metric 'nope'"):
        plot_metric(data, "nope")


def test_render_charts_writes_svgs(data, tmp_path):
    written = render_charts(data, tmp_path / "charts")
    names = [p.name for p, _, _ in written]
    assert names == ["metric_exact_match.svg", "metric_recall-5.svg", "metric_faithfulness.svg", "latency.svg",
                     "tradeoff_latency.svg", "tradeoff_cost.svg", "tags_exact_match.svg", "tags_recall-5.svg",
                     "tags_faithfulness.svg"]
    for path, title, svg in written:
        assert path.read_bytes() == svg and title
        ET.fromstring(svg)  # well-formed


def test_names_from_the_run_are_escaped_not_markup(tmp_path):
    """System names come from the suite: in the SVG they are text, never elements."""
    from harness.charts.svg import Canvas

    canvas = Canvas(100, 100)
    canvas.text(1, 1, '<script>alert(1)</script> & "q"', data_system='a"><script>')
    root = ET.fromstring(canvas.svg('t</title><script>'))
    assert not list(root.iter(f"{SVG}script"))
    assert root.find(f"{SVG}text").text == '<script>alert(1)</script> & "q"'
    assert root.find(f"{SVG}text").get("data-system") == 'a"><script>'


def test_scales_pick_readable_ticks():
    assert Scale(0.0, 1.0).ticks() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert Scale(0.001, 1000.0, log=True).ticks() == [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    assert scale_for([0.0004, 12.0], log=True).log and scale_for([0.0, 12.0], log=True).log is False
    wide = scale_for([3.0, 17.0])
    assert wide.lo <= 3.0 and wide.hi >= 17.0 and all(float(tick_label(t)) == t for t in wide.ticks())
    assert [tick_label(v) for v in (0.0, 0.25, 1e-4, 2e6)] == ["0", "0.25", "1e-4", "2e6"]
    y = Scale(0.0, 1.0, start=100.0, end=0.0)
    assert (y(0.0), y(1.0), y(0.5)) == (100.0, 0.0, 50.0)
