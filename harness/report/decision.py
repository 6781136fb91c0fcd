"""The Decision section of report.md and report.html, from the same pass over the samples as the
rest of the report (`SampleStats.facts`), or from a second read when none was gathered.

A failure of the analysis or of its charts is shown in the section and on stderr and never costs
the rest of the report.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

CHARTS = "charts"


@dataclass
class ReportDecision:
    markdown: str
    html: str
    files: list[Path] = field(default_factory=list)  # the section's chart files (SVG)


def report_decision(data: Any, *, charts: bool = True, href: Callable[[str], str] | None = None) -> ReportDecision:
    """The section for the run in `data` (a harness.report.data.RunData); `href` says where an
    example id links (harness.report.pages.SamplePages.href), by default to report.html itself."""
    from harness.decision.as_html import esc, same_page

    decision = _analyse(data)
    if isinstance(decision, str):
        found = ReportDecision(
            markdown=f"## Decision\n\n> **⚠ {decision}**\n",
            html=f'<section id="decision"><h2>Decision</h2><div class="notice">⚠ {esc(decision)}</div></section>',
        )
    else:
        from harness.decision.as_html import render_html
        from harness.decision.as_markdown import render_markdown

        from harness.decision.charts import FILES

        drawn = _charts(decision, data.path / CHARTS) if charts else []
        found = ReportDecision(
            markdown=render_markdown(decision, charts={key: f"{CHARTS}/{FILES[key]}" for key, _, _ in drawn}),
            html=render_html(decision, drawn, href or same_page),
            files=[data.path / CHARTS / FILES[key] for key, _, _ in drawn],
        )
    return found


def _analyse(data: Any) -> Any:
    """The Decision, or why it could not be made."""
    from harness.decision.analysis import analyse_facts
    from harness.decision.facts import facts_from_rows

    try:
        builder = getattr(data.stats, "facts", None)
        facts = builder.finish(data.header) if builder is not None else facts_from_rows(data.header, data.rows())
        return analyse_facts(facts)
    except Exception as error:  # noqa: BLE001 - reported in the section and on stderr
        print(f"warning: decision analysis failed ({type(error).__name__}: {error})", file=sys.stderr)
        return (f"The decision analysis failed ({type(error).__name__}: {error}); "
                f"run `harness decide {data.path}` for details.")


def _charts(decision: Any, folder: Path) -> list[tuple[str, str, bytes]]:
    """(key, title, SVG) of the charts drawn; none when drawing fails (the section's tables say
    everything the charts show)."""
    from harness.decision.charts import render_charts

    try:
        return render_charts(decision, folder)
    except Exception as error:  # noqa: BLE001
        print(f"warning: decision charts not drawn ({type(error).__name__}: {error})", file=sys.stderr)
        return []
