"""Reports generated from a run directory's files: report.md, charts/*.svg and report.html.

`write_reports` is called at the end of every run and by `harness report RUN_DIR`; it never
re-runs anything. Examples beyond report.html's first page are in report_pages/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from harness.report.decision import ReportDecision, report_decision

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CHARTS_DIR = "charts"


def write_reports(run_dir: str | Path, *, charts: bool = True, warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write every report into `run_dir` and return the paths written (md, charts, html pages,
    html), from one streaming pass over the samples. (A run's own reports are written by
    `harness.report.follower`, which follows samples.jsonl as the run writes it.)"""
    from harness.report.data import RunData
    from harness.report.pages import PageWriter, write_sample_pages

    writers: list[PageWriter] = []

    def pages_in_same_pass(data: RunData) -> Any:
        writers.append(PageWriter(data, data.path))
        return writers[0].add

    data = RunData.load(run_dir, visit=pages_in_same_pass, decision=True)
    if data.duplicates_warning and warn is not None:
        warn(data.duplicates_warning)
    pages = writers[0].close() if writers else write_sample_pages(data, data.rows(), data.path)
    decision = report_decision(data, charts=charts, href=pages.href)
    written = [write_markdown(data, decision)]
    rendered, note = draw_charts(data) if charts else ([], None)
    return written + write_html(data, pages, rendered, note, decision)


def write_markdown(data: Any, decision: ReportDecision | None = None) -> Path:
    """report.md, opening with the Decision section (computed here when not given)."""
    from harness.report.tables import render_markdown

    decision = decision or report_decision(data, charts=False)
    return _write(data.path, REPORT_MD, render_markdown(data, decision.markdown))


def write_html(data: Any, pages: Any, rendered: list[tuple[Path, str, bytes]], note: str | None,
               decision: ReportDecision | None = None) -> list[Path]:
    """report.html (its samples section from `pages`); returns the charts, pages and html paths."""
    from harness.decision.as_html import CSS as DECISION_CSS
    from harness.report.html import render_html

    decision = decision or report_decision(data, charts=False, href=pages.href)
    html = render_html(data, [(title, svg) for _, title, svg in rendered], chart_note=note, samples=pages.section(),
                       decision=decision.html, decision_css=DECISION_CSS)
    return ([path for path, _, _ in rendered] + decision.files + [path for path, _, _ in pages.files]
            + [_write(data.path, REPORT_HTML, html)])


def draw_charts(data: Any) -> tuple[list[tuple[Path, str, bytes]], str | None]:
    """The charts (path, title, SVG bytes), and the note the HTML shows above them."""
    from harness.report.chart_files import charts_left_out, render_charts, tag_charts_left_out

    left, tag_left = charts_left_out(data), tag_charts_left_out(data)
    notes = []
    if left:
        notes.append(f"Bar charts cover the first quality metrics; {len(left)} more are in the tables: {', '.join(left)}.")
    if tag_left:
        notes.append(f"Tag charts cover the first quality metrics; {len(tag_left)} more are in the tables by tag: "
                     f"{', '.join(tag_left)}.")
    note = " ".join(notes) or None
    return render_charts(data, data.path / CHARTS_DIR), note


def _write(folder: Path, name: str, text: str) -> Path:
    """Reports are derived files (rebuilt at will), written atomically beside the run record."""
    import os

    target = folder / name
    temp = target.with_name(f".{name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


__all__ = ["write_reports", "REPORT_MD", "REPORT_HTML", "CHARTS_DIR"]
