"""Reports generated from a run directory's files: report.md, charts/*.png and report.html.

`write_reports` is called at the end of every run and by `harness report RUN_DIR`; it never
re-runs anything. Charts need the optional matplotlib extra; without it the tables and the
HTML are still written.
"""

from __future__ import annotations

from pathlib import Path

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CHARTS_DIR = "charts"


def write_reports(run_dir: str | Path, *, charts: bool = True) -> list[Path]:
    """Write every report into `run_dir` and return the paths written (md, charts, html)."""
    from harness.report.data import RunData
    from harness.report.html import render_html
    from harness.report.tables import render_markdown

    data = RunData.load(run_dir)
    written = [_write(data.path, REPORT_MD, render_markdown(data))]
    rendered: list[tuple[Path, str, bytes]] = []
    note = None
    if charts:
        from harness.report.charts import charts_left_out, render_charts

        try:
            rendered = render_charts(data, data.path / CHARTS_DIR)
        except ModuleNotFoundError as error:  # the optional extra is missing
            if not (error.name or "").startswith("matplotlib"):
                raise
            note = "Charts need matplotlib: pip install 'harness-eval[report]', then run `harness report` again."
        else:
            if left := charts_left_out(data):
                note = f"Bar charts cover the first quality metrics; {len(left)} more are in the tables: {', '.join(left)}."
    written += [path for path, _, _ in rendered]
    html = render_html(data, [(title, png) for _, title, png in rendered], chart_note=note)
    written.append(_write(data.path, REPORT_HTML, html))
    return written


def _write(folder: Path, name: str, text: str) -> Path:
    """Reports are derived files (rebuilt at will), written atomically beside the run record."""
    import os

    target = folder / name
    temp = target.with_name(f".{name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


__all__ = ["write_reports", "REPORT_MD", "REPORT_HTML", "CHARTS_DIR"]
