"""Charts checked on the Figure objects: labels, series, bar and point counts, not just files."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="charts need the report extra (matplotlib)")

from harness.report.charts import plot_latency, plot_metric, plot_tags, plot_tradeoff, render_charts  # noqa: E402
from harness.report.data import RunData, kind_colour  # noqa: E402
from test_report_data import make_run  # noqa: E402


@pytest.fixture
def data(tmp_path: Path) -> RunData:
    return RunData.load(make_run(tmp_path / "run"))


def container(ax, label):
    return next(c for c in ax.containers if c.get_label() == label)


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_metric_bars_with_ci_and_kind_colours(data):
    fig = plot_metric(data, "exact_match")
    ax = fig.axes[0]
    bars = container(ax, "systems")
    assert [round(p.get_height(), 3) for p in bars] == [0.5, 0.75, 0.5, 0.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["plain", "rag", "oracle", "broken"]
    assert "exact_match" in ax.get_ylabel() and "higher is better" in ax.get_ylabel()
    assert ax.get_xlabel() == "system" and ax.get_title()
    assert bars.errorbar is not None and len(bars.errorbar.lines[2][0].get_segments()) == 4
    from matplotlib.colors import to_hex

    assert to_hex(bars[1].get_facecolor()) == kind_colour("rag").lower()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["prompt", "rag", "oracle", "custom"]


def test_metric_bars_show_na_instead_of_a_zero_bar(data):
    ax = plot_metric(data, "recall@5").axes[0]
    assert len(container(ax, "systems")) == 1
    assert texts(ax).count("n/a") == 3


def test_latency_distribution_and_split(data):
    fig = plot_latency(data)
    box_ax, split_ax = fig.axes
    assert [t.get_text() for t in box_ax.get_yticklabels()] == ["plain", "rag", "oracle", "broken"]
    assert box_ax.get_xlabel() and split_ax.get_xlabel()
    assert len([p for p in box_ax.patches]) == 4  # one box per system
    widths = {label: [round(p.get_width(), 3) for p in container(split_ax, label)]
              for label in ("retrieval", "generation", "other / not split")}
    assert widths == {"retrieval": [0.0, 0.2, 0.0, 0.0], "generation": [1.0, 0.3, 0.0, 0.0],
                      "other / not split": [0.0, 0.0, 2.0, 3.0]}
    assert [t.get_text() for t in split_ax.get_legend().get_texts()] == ["retrieval", "generation", "other / not split"]


def test_tradeoff_marks_the_pareto_front(data):
    fig = plot_tradeoff(data, "exact_match", "cost_usd")
    ax = fig.axes[0]
    dots = next(c for c in ax.collections if c.get_gid() == "systems")
    assert len(dots.get_offsets()) == 3  # broken has no cost: left out, and said so
    front = next(line for line in ax.lines if line.get_gid() == "pareto")
    assert list(front.get_xdata()) == [0.001, 0.002] and list(front.get_ydata()) == [0.5, 0.75]
    assert "cost_usd" in ax.get_xlabel() and "lower is better" in ax.get_xlabel()
    assert "exact_match" in ax.get_ylabel()
    assert {"plain", "rag", "oracle"} <= set(texts(ax))
    assert any("broken" in t.get_text() for t in fig.texts)


def test_tradeoff_with_latency_front_is_the_dominating_system(data):
    ax = plot_tradeoff(data, "exact_match").axes[0]
    front = next(line for line in ax.lines if line.get_gid() == "pareto")
    assert list(front.get_xdata()) == [0.5]


def test_tag_heatmap_values_and_na(data):
    fig = plot_tags(data, "exact_match")
    ax = fig.axes[0]
    image = next(i for i in ax.images if i.get_gid() == "heatmap")
    matrix = image.get_array()
    assert matrix.shape == (4, 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["easy", "numeric", "hard", "(untagged)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["plain", "rag", "oracle", "broken"]
    assert matrix[1, 0] == 1.0 and matrix[0, 0] == 0.5
    assert bool(matrix.mask[3, 3]) and texts(ax).count("n/a") == 1
    assert len(fig.axes) == 2  # with a colour bar


def test_unknown_metric_is_a_clear_error(data):
    with pytest.raises(ValueError, match="no metric 'nope'"):
        plot_metric(data, "nope")


def test_render_charts_writes_pngs(data, tmp_path):
    written = render_charts(data, tmp_path / "charts")
    names = [p.name for p, _, _ in written]
    assert names == ["metric_exact_match.png", "metric_recall-5.png", "metric_faithfulness.png", "latency.png",
                     "tradeoff_latency.png", "tradeoff_cost.png", "tags_exact_match.png", "tags_recall-5.png",
                     "tags_faithfulness.png"]
    for path, title, png in written:
        assert png.startswith(b"\x89PNG") and len(png) > 5000 and path.read_bytes() == png and title


def test_no_figure_state_leaks_into_pyplot(data):
    import sys

    plot_metric(data, "exact_match")
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()
