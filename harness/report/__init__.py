"""Reports generated from a run directory's files: report.md, charts/*.png and report.html.

`write_reports` is called at the end of every run and by `harness report RUN_DIR`; it never
re-runs anything. Charts need the optional matplotlib extra; without it the tables and the
HTML are still written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.decision import Decision
    from harness.report.data import RunData

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CHARTS_DIR = "charts"


def write_reports(run_dir: str | Path, *, charts: bool = True) -> list[Path]:
    """Write every report into `run_dir` and return the paths written (md, charts, html)."""
    from harness.report.data import RunData
    from harness.report.html import render_html
    from harness.report.tables import render_markdown

    data = RunData.load(run_dir)
    decision = decide(data)
    rendered: list[tuple[Path, str, bytes]] = []
    decision_charts: list[tuple[str, str, bytes]] = []
    note = None
    if charts:
        from harness.report.charts import render_charts

        try:
            rendered = render_charts(data, data.path / CHARTS_DIR)
            decision_charts = _decision_charts(decision, data.path / CHARTS_DIR)
        except ModuleNotFoundError as error:  # the optional extra is missing
            if not (error.name or "").startswith("matplotlib"):
                raise
            note = "Charts need matplotlib: pip install 'harness-eval[report]', then run `harness report` again."
    written = [_write(data.path, REPORT_MD, render_markdown(data, decision_markdown(decision, decision_charts)))]
    written += [path for path, _, _ in rendered]
    written += [data.path / CHARTS_DIR / _decision_png(key) for key, _, _ in decision_charts]
    html = render_html(data, [(title, png) for _, title, png in rendered], chart_note=note,
                       decision=decision_html(decision, decision_charts))
    written.append(_write(data.path, REPORT_HTML, html))
    return written


def decide(data: "RunData") -> "Decision | str":
    """The run's decision analysis, or why it could not be made (shown in the report, which is
    still written: a bug in the analysis must not cost the rest of the report)."""
    from harness.decision.analysis import analyse_facts
    from harness.decision.facts import facts_from_rows

    try:
        return analyse_facts(facts_from_rows(data.header, data.samples))
    except Exception as error:  # noqa: BLE001 - reported in the Decision section and on stderr
        import sys

        print(f"warning: decision analysis failed ({type(error).__name__}: {error})", file=sys.stderr)
        return f"The decision analysis failed ({type(error).__name__}: {error}); run `harness decide {data.path}` for details."


def _decision_charts(decision: "Decision | str", folder: Path) -> list[tuple[str, str, bytes]]:
    if isinstance(decision, str):
        return []
    from harness.decision.charts import render_charts

    try:
        return render_charts(decision, folder)
    except ModuleNotFoundError:
        raise
    except Exception as error:  # noqa: BLE001 - the tables still say everything the charts show
        import sys

        print(f"warning: decision charts not drawn ({type(error).__name__}: {error})", file=sys.stderr)
        return []


def decision_markdown(decision: "Decision | str", charts: list[tuple[str, str, bytes]]) -> str:
    if isinstance(decision, str):
        return f"## Decision\n\n> **⚠ {decision}**\n"
    from harness.decision.render_md import render_markdown as render

    return render(decision, charts={key: f"{CHARTS_DIR}/{_decision_png(key)}" for key, _, _ in charts})


def decision_html(decision: "Decision | str", charts: list[tuple[str, str, bytes]]) -> str:
    from harness.decision.render_html import esc, render_html as render

    if isinstance(decision, str):
        return f'<section id="decision"><h2>Decision</h2><div class="notice">⚠ {esc(decision)}</div></section>'
    return render(decision, charts)


def _decision_png(key: str) -> str:
    from harness.decision.charts import ATTRIBUTION_PNG, BREAK_EVEN_PNG

    return {"attribution": ATTRIBUTION_PNG, "break_even": BREAK_EVEN_PNG}[key]


def _write(folder: Path, name: str, text: str) -> Path:
    """Reports are derived files (rebuilt at will), written atomically beside the run record."""
    import os

    target = folder / name
    temp = target.with_name(f".{name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


__all__ = ["write_reports", "REPORT_MD", "REPORT_HTML", "CHARTS_DIR"]
