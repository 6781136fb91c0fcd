"""report.html: self-contained (inline CSS, charts as data URIs, no JavaScript); examples beyond
the first page are on pages of their own beside it (harness.report.pages, which builds its
examples with this module's parts).

Every piece of text that came from a model, a dataset or a corpus goes through `esc`, and a
Content-Security-Policy forbids scripts and remote loads, so a `<script>` in an answer is shown
as text and could not run even if escaping were forgotten somewhere.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from harness.report.data import RunData, fmt
from harness.charts.svg import figure_html
from harness.report.tables import (BEST, SYSTEM_COLUMNS, direction_note, facts, metric_cell, notices, result_groups,
                                   system_rows, tag_heading, tag_metrics, tag_table)
from harness.types import MetricInfo

NAV = [("results", "Results"), ("tags", "By tag"), ("charts", "Charts"), ("samples", "Samples")]
MAX_OUTPUT_CHARS = 20_000
MAX_CONTEXT_CHARS = 1_500
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222}
body{margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;white-space:nowrap}td.best{background:#e8f5e9;font-weight:600}
.counts{color:#777;font-size:12px}.notice{background:#fff3e0;border-left:4px solid #fb8c00;padding:6px 10px;margin:6px 0}
.kind{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:6px 8px;margin:4px 0;max-height:420px;overflow:auto}
details{border:1px solid #e0e0e0;border-radius:4px;margin:6px 0;padding:4px 10px}summary{cursor:pointer}
.system{border-top:1px dashed #ccc;margin-top:8px;padding-top:6px}.error{color:#b71c1c}
.ok{color:#2e7d32}.undefined{color:#757575}.status-error{color:#b71c1c}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;flex:1 1 520px}
figure img{max-width:100%;border:1px solid #eee}nav a{margin-right:12px}
"""


def esc(value: Any) -> str:
    text = value if type(value) is str else ("" if value is None else str(value))
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:  # most text has none
        return html.escape(text, quote=True)
    return text


@lru_cache(maxsize=256)
def _head(head: tuple[str, ...]) -> str:
    return "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"


def _table(head: list[str] | None, rows: list[list[str]], raw: bool = False) -> str:
    """`raw` rows are already HTML (built here from escaped parts); plain rows get escaped."""
    out = ["<table>"]
    if head:
        out.append(_head(tuple(head)))
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(cell if raw else f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _header(data: RunData, decision: str | None = None) -> str:
    parts = [_table(None, [[label, value] for label, value in facts(data)])]
    parts += [f'<div class="notice">⚠ {esc(n)}</div>' for n in notices(data)]
    parts.append(decision or "")
    colours = data.colours()
    rows = []
    for row in system_rows(data):
        swatch = f'<span class="kind" style="background:{colours[row[0]]}"></span>'
        rows.append([f"<td>{swatch}{esc(row[0])}</td>"] + [f"<td>{esc(c)}</td>" for c in row[1:]])
    head = SYSTEM_COLUMNS
    parts.append('<h2 id="systems">Systems</h2>' + _table(head, rows, raw=True))
    return "".join(parts)


def _results(data: RunData) -> str:
    if not data.metrics:
        return "<p>No scores recorded.</p>"
    parts = [f"<p>Mean [95% CI] and counts. {esc(direction_note(data))}. n/a: no defined value.</p>"]
    for title, metrics in result_groups(data):
        rows = []
        for system in data.systems:
            cells = [f"<td>{esc(system)}</td>"]
            for metric in metrics:
                value, counts, best = metric_cell(data, system, metric)
                mark = f"{BEST} " if best else ""
                cells.append(f'<td class="num{" best" if best else ""}">{mark}{esc(value)}'
                             f'<br><span class="counts">{esc(counts)}</span></td>')
            rows.append(cells)
        parts.append(f"<h3>{esc(title)}</h3>" + _table(["system", *metrics], rows, raw=True))
    return "".join(parts)


def _tags(data: RunData) -> str:
    if not data.tags():
        return "<p>The dataset has no tags.</p>"
    parts = []
    for metric in tag_metrics(data):
        head, rows = tag_table(data, metric)
        cells = [[f"<td>{esc(r[0])}</td>"] + [f'<td class="num">{esc(c)}</td>' for c in r[1:]] for r in rows]
        parts.append(f"<h3>{esc(tag_heading(data, metric))}</h3>" + _table(head, cells, raw=True))
    return "".join(parts)


def _charts(charts: list[tuple[str, bytes]], note: str | None) -> str:
    intro = f"<p>{esc(note)}</p>" if note else ""
    figures = "".join(figure_html(title, svg) for title, svg in charts)
    return intro + (f'<div class="charts">{figures}</div>' if figures else "<p>No charts.</p>")


def _clip(text: Any, limit: int) -> str:
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters in samples.jsonl)"


def _scores(data: RunData, scores: dict[str, Any]) -> str:
    if not scores:
        return "<p>No scores.</p>"
    rows = "".join(_score_row(data.info(name), name, score.get("value"), str(score.get("status")),
                              score.get("reason") or "") for name, score in scores.items())
    return f"<table>{_head(('metric', 'value', 'status', 'reason'))}<tbody>{rows}</tbody></table>"


@lru_cache(maxsize=1024)
def _score_row(info: MetricInfo, name: str, value: float | None, status: str, reason: str) -> str:
    """One row of a sample's score table; the same score recurs across samples, so it is kept.
    Few are: latencies differ every time, so a larger cache would mostly hold rows that never
    recur, for as long as the report's follower lives."""
    shown = fmt(info, value) if value is not None else "n/a"
    css = "ok" if status == "ok" else ("undefined" if status == "undefined" else "status-error")
    return (f"<tr><td>{esc(name)}</td><td class=\"num\">{esc(shown)}</td>"
            f"<td class=\"{css}\">{esc(status)}</td><td>{esc(reason)}</td></tr>")


def _retrieved(chunks: list[dict[str, Any]] | None) -> str:
    if chunks is None:
        return ""
    if not chunks:
        return "<p>Retrieved nothing.</p>"
    rows = [[c.get("rank"), c.get("chunk_id"), c.get("doc_id"), "" if c.get("score") is None else f"{c['score']:.4g}"]
            for c in sorted(chunks, key=lambda c: c.get("rank") or 0)]
    cells = [[f"<td>{esc(v)}</td>" for v in r] + [f"<td><pre>{esc(_clip(c.get('text'), MAX_CONTEXT_CHARS))}</pre></td>"]
             for r, c in zip(rows, sorted(chunks, key=lambda c: c.get("rank") or 0))]
    return "<p><b>Retrieved contexts</b></p>" + _table(["rank", "chunk id", "doc id", "score", "text"], cells, raw=True)


def _system_block(data: RunData, system: str, kind: str, row: dict[str, Any]) -> str:
    response = row.get("response", {})
    parts = [f'<div class="system"><b>{esc(system)}</b> <span class="counts">{esc(kind)}'
             f'{" · cached" if response.get("cached") else ""} · {esc(response.get("model") or "")}</span>']
    if response.get("error"):
        parts.append(f'<p class="error">Error: {esc(response["error"])}</p>')
    if response.get("text") or not response.get("error"):
        parts.append(f"<pre>{esc(_clip(response.get('text'), MAX_OUTPUT_CHARS))}</pre>")
    parts.append(_retrieved(response.get("retrieved")))
    parts.append(_scores(data, row.get("scores", {})))
    return "".join(parts) + "</div>"


def render_html(data: RunData, charts: list[tuple[str, bytes]], chart_note: str | None = None,
                samples: str = "", decision: str | None = None, decision_css: str = "") -> str:
    """The whole report as one string; `charts` are (title, SVG bytes). `samples` is the Samples
    section (harness.report.pages: the first page and links to the others). `decision` is the
    Decision section's HTML (harness.decision, escaped there), placed first after the facts, with
    its styles `decision_css`."""
    title = f"Run report: {data.header.suite.name}"
    description = data.header.suite.description
    nav = ([("decision", "Decision")] if decision else []) + NAV
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(description)}</p>" if description else "",
        "<nav>" + "".join(f'<a href="#{a}">{t}</a>' for a, t in nav) + "</nav>",
        _header(data, decision),
        '<h2 id="results">Results</h2>', _results(data),
        '<h2 id="tags">By tag</h2>', _tags(data),
        '<h2 id="charts">Charts</h2>', _charts(charts, chart_note),
        '<h2 id="samples">Samples</h2>', samples,
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}{decision_css}</style></head><body>"
        + "".join(body) + "</body></html>\n"
    )
