"""report.md on a hand-made run: best marks (direction-aware), n/a, counts, per-tag numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report import write_reports
from harness.report.data import RunData
from harness.report.tables import md, render_markdown
from tests.report.test_report_data import SYSTEMS, make_run, summary_csv


@pytest.fixture
def report(tmp_path: Path) -> str:
    return render_markdown(RunData.load(make_run(tmp_path / "run")))


def table(report: str, heading: str) -> dict[str, dict[str, str]]:
    """The first Markdown table after `heading`, as {first cell: {column: cell}}."""
    lines = report.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
        elif rows:
            break
    head, body = rows[0], rows[2:]
    return {r[0]: dict(zip(head[1:], r[1:])) for r in body}


def test_best_per_metric_is_marked_and_direction_aware(report):
    quality = table(report, "### Quality")
    assert quality["rag"]["exact_match"].startswith("★ **0.750")
    assert "★" not in quality["plain"]["exact_match"] and "★" not in quality["oracle"]["exact_match"]
    assert quality["plain"]["faithfulness"].startswith("★")
    cost = table(report, "### Latency, tokens and cost")
    assert cost["rag"]["latency_s"].startswith("★ **0.5")  # lowest latency wins
    assert "★" not in cost["broken"]["latency_s"]  # highest latency does not
    assert cost["plain"]["cost_usd"].startswith("★")
    assert cost["broken"]["tokens_in"].startswith("★")


def test_undefined_is_na_and_counts_are_shown(report):
    quality = table(report, "### Quality")
    assert quality["oracle"]["faithfulness"] == "n/a (n=0, 4 undefined)"
    assert quality["plain"]["recall@5"] == "n/a (n=0, 4 undefined)"
    assert "★" not in quality["rag"]["recall@5"]  # the only system with a value: no contest
    assert quality["rag"]["recall@5"] == "0.625 [0.250, 1.000] (n=4)"
    assert quality["broken"]["exact_match"].endswith("(n=2, 2 errors)")
    assert "nan" not in report.lower()


def test_per_tag_breakdown_numbers(report):
    exact = table(report, "### exact_match")
    assert list(exact) == ["plain", "rag", "oracle", "broken"]
    assert exact["plain"] == {"easy (2)": "0.500", "numeric (1)": "0.000", "hard (1)": "0.000", "(untagged) (1)": "1.000"}
    assert exact["rag"]["easy (2)"] == "1.000"
    assert exact["oracle"]["hard (1)"] == "1.000"
    assert exact["broken"]["(untagged) (1)"] == "n/a"
    recall = table(report, "### recall@5")
    assert recall["rag"] == {"easy (2)": "0.750", "numeric (1)": "0.500", "hard (1)": "1.000", "(untagged) (1)": "0.000"}
    assert recall["plain"]["easy (2)"] == "n/a"


def test_header_facts_and_warnings(report):
    assert report.startswith("# Run report: handmade")
    assert "- **Status:** complete" in report
    assert "- **Samples:** 16 of 16 planned, 2 with errors" in report
    assert "scripted/rag" in report
    assert "⚠ degraded: judge error rate 20% > 10%" in report
    assert "⚠ warning: scripted models only" in report
    systems = table(report, "## Systems")
    assert systems["broken"] == {"kind": "custom", "model": "scripted/broken", "samples": "4", "errors": "2",
                                 "latency p50 / p95 (s)": "3 / 3", "retried": "n/a",
                                 "tokens in": "10 (2 without a value)", "tokens out": "n/a", "cost (USD)": "n/a"}
    assert systems["rag"]["tokens in"] == "400" and systems["rag"]["cost (USD)"] == "0.008"
    assert "A suite \\| with a pipe" in report


def test_interrupted_run_says_so(tmp_path):
    text = render_markdown(RunData.load(make_run(tmp_path / "r", status="interrupted")))
    assert "run status is 'interrupted'" in text


def test_markdown_cells_cannot_break_tables_or_inject_html():
    assert md("a|b\nc <script>") == "a\\|b c &lt;script>"


def test_untagged_dataset_says_so(tmp_path):
    run = make_run(tmp_path / "r")
    samples = (run / "samples.jsonl").read_text().replace('"tags": ["easy"]', '"tags": []')
    samples = samples.replace('"tags": ["easy", "numeric"]', '"tags": []').replace('"tags": ["hard"]', '"tags": []')
    (run / "samples.jsonl").write_text(samples)
    text = render_markdown(RunData.load(run))
    assert "The dataset has no tags." in text and "### exact_match" not in text


def test_write_reports_writes_markdown_charts_and_html(tmp_path):
    run = make_run(tmp_path / "r")
    paths = write_reports(run)
    names = [p.name for p in paths]
    assert names[0] == "report.md" and names[-1] == "report.html"
    assert "latency.svg" in names and "tradeoff_cost.svg" in names and "tags_exact_match.svg" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    text, plain = (run / "report.md").read_text(), render_markdown(RunData.load(run))
    head, tail = plain.split("## Systems")
    assert text.startswith(head + "## Decision") and text.endswith("## Systems" + tail)  # the decision section first


def test_every_metric_is_shown_in_the_tables_the_tag_section_and_the_console(tmp_path):
    """With more metrics than fit a screen, nothing measured is left out without a word."""
    import io

    from harness.compare.synthetic import write_run
    from harness.run import RunView
    from harness.run.console import print_outcome

    metrics = [f"quality_{i:02d}" for i in range(12)] + ["latency_s"]
    values = {s: {f"e{i}": {m: (i % 3) / 2 for m in metrics} for i in range(6)} for s in ("a", "b")}
    run = write_run(tmp_path / "run", values)
    samples = run / "samples.jsonl"
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    for row in rows:
        row["example"]["tags"] = ["odd" if int(row["example"]["id"][1:]) % 2 else "even"]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = render_markdown(RunData.load(run))
    by_tag = text.split("## By tag", 1)[1]
    assert all(f"| {m} " in text for m in metrics)
    view = RunView.open(run)
    out = io.StringIO()
    print_outcome(view.header, view.compute_summary(), out=out)
    shown = out.getvalue()
    assert all(m[:13] in shown for m in metrics), shown
    assert by_tag.count("### quality_") == 12


def test_lower_is_better_metrics_get_tag_tables_and_are_named_under_the_tag_charts(tmp_path):
    from harness.report import draw_charts

    run = make_run(tmp_path / "r")
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for row in rows:  # plain wrongly declines e1 and e3; the others never do
        declined = float(row["system"] == "plain" and row["example"]["id"] in ("e1", "e3"))
        row["scores"]["declined_answerable"] = {"name": "declined_answerable", "value": declined, "status": "ok",
                                                "reason": None, "detail": {}}
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "summary.csv").write_text(summary_csv(rows, list(SYSTEMS)))
    header = json.loads((run / "run.json").read_text())
    header["metric_info"] = {"declined_answerable": {"higher_is_better": False, "unit": None, "group": "abstention"}}
    (run / "run.json").write_text(json.dumps(header))
    data = RunData.load(run)
    text = render_markdown(data)
    declined = table(text, "### declined_answerable (lower is better)")
    assert declined["plain"] == {"easy (2)": "0.5", "numeric (1)": "0", "hard (1)": "1", "(untagged) (1)": "0"}
    assert "### latency_s (lower is better)" in text and "### exact_match\n" in text
    _, note = draw_charts(data)
    assert note is not None and "Tag charts" in note and "declined_answerable" in note and "latency_s" in note
