"""The Decision section as an HTML fragment: report.html's first section, and the run viewer's.

Formatting only. Every string that came from the run (system names, tags, example ids, the
sentences that quote them) is escaped; example ids link to the per-sample view (`#ex-<id>`, or
where the caller says). Charts are SVG data URIs and styles are classes (`CSS`, included by the
page), so the fragment needs no file, no script and no inline style.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Iterable
from urllib.parse import quote

from harness.decision.attribution import BUCKETS, COLOURS
from harness.decision.effects import EFFECTS, num
from harness.decision.model import Decision, Effect
from harness.stats.power import describe as describe_power
from harness.decision.as_markdown import MARKS, ROLE_LABELS, price_sources

MAX_IDS = 200
CSS = """
.decision .recommendation{background:#e8f5e9;border-left:4px solid #43a047;padding:8px 12px;margin:8px 0}
.decision .better{color:#2e7d32}.decision .worse{color:#b71c1c}.decision .no_difference,.decision .too_few{color:#616161}
.decision .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.decision ul.ids{margin:2px 0 8px}.decision .ids a{margin-right:6px}
""" + "".join(f".decision .b-{key}{{background:{colour}}}" for key, colour in COLOURS.items()) + "\n"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(head: list[str], rows: Iterable[list[str]]) -> str:
    """`rows` hold HTML built here from escaped parts."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + f"</tr></thead><tbody>{body}</tbody></table>"


def _list(items: Iterable[str]) -> str:
    items = list(items)
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>" if items else ""


def _effect_cell(effect: Effect | None) -> str:
    if effect is None or effect.delta is None:
        return "–"
    text = f"{MARKS[effect.verdict]} {num(effect.delta, None, True)} [{num(effect.ci_low, None, True)}, {num(effect.ci_high, None, True)}]"
    return f'<span class="{esc(effect.verdict)}" title="{esc(effect.text)}">{esc(text)}</span>'


def same_page(example_id: str) -> str:
    return "#ex-" + quote(example_id, safe="")


def example_links(ids: list[str], href: Callable[[str], str] = same_page, limit: int = MAX_IDS) -> str:
    links = " ".join(f'<a href="{esc(href(i))}">{esc(i)}</a>' for i in ids[:limit])
    return links + (f" … and {len(ids) - limit} more" if len(ids) > limit else "")


def render_html(decision: Decision, charts: list[tuple[str, str, bytes]] | None = None,
                href: Callable[[str], str] = same_page) -> str:
    """`charts`: (key, title, SVG bytes) from harness.decision.charts.render_charts; `href`: where
    an example id links to (its block on report.html or on one of report_pages/). The fragment
    has no inline style: its page includes `CSS`."""
    figures = {key: (title, png) for key, title, png in (charts or [])}
    rec = decision.recommendation
    parts = ['<section class="decision" id="decision">', '<h2>Decision</h2>',
             f'<div class="recommendation"><p><b>Recommendation.</b> {esc(rec.text)}</p></div>']
    if rec.evidence:
        parts.append("<p><b>Evidence</b></p>" + _list(rec.evidence))
    if rec.caveats:
        parts.append("<p><b>Caveats</b></p>" + _list(rec.caveats))
    parts.append(_list(decision.notes))
    parts += [_roles(decision), _effects(decision), _attribution(decision, figures.get("attribution"), href),
              _matrix(decision), _costs(decision, figures.get("break_even")), _freshness(decision, href), _power(decision)]
    parts.append("</section>")
    return "".join(parts)


def _figure(figure: tuple[str, bytes] | None) -> str:
    if figure is None:
        return ""
    from harness.charts.svg import figure_html

    return figure_html(*figure)


def _roles(d: Decision) -> str:
    rows = [[esc(ROLE_LABELS[r.role]), esc(r.system or "—"), esc(r.how)] for r in d.roles.details]
    return '<h3 id="decision-roles">Roles</h3>' + _table(["role", "system", "how"], rows) + _list(d.roles.notes)


def _effects(d: Decision) -> str:
    out = ['<h3 id="decision-effects">Effects</h3>',
           f"<p>Paired differences over the examples every system involved scored ok, with {d.confidence:.0%} "
           "bootstrap CIs; the words follow the CI (▲ better, ▼ worse, ≈ no detectable difference, ? too few).</p>"]
    primary = [e for e in d.effects if e.metric in (d.correctness, d.format)]
    out.append("<ul>" + "".join(
        f'<li class="{esc(e.verdict)}"><b>{esc(EFFECTS[e.key][0].capitalize())}</b> ({esc(e.formula)}) on '
        f"{esc(e.metric)}: {esc(e.text)}</li>" for e in primary) + "</ul>" if primary else "<p>No effect could be measured.</p>")
    others = [e for e in d.effects if e not in primary]
    metrics = list(dict.fromkeys(e.metric for e in others))
    if metrics:
        keys = [k for k in EFFECTS if any(e.key == k for e in others)]
        rows = [[esc(m)] + [_effect_cell(next((e for e in others if e.metric == m and e.key == k), None)) for k in keys]
                for m in metrics]
        out.append("<p>Other quality metrics</p>" + _table(["metric"] + [EFFECTS[k][0] for k in keys], rows))
    if d.tag_effects:
        keys = [k for k in EFFECTS if any(e.key == k for e in d.tag_effects)]
        pairs = list(dict.fromkeys((e.tag, e.metric) for e in d.tag_effects))
        rows = [[esc(t), esc(m)] + [_effect_cell(next((e for e in d.tag_effects if (e.tag, e.metric, e.key) == (t, m, k)), None))
                                    for k in keys] for t, m in pairs]
        out.append("<p>By tag</p>" + _table(["tag", "metric"] + [EFFECTS[k][0] for k in keys], rows))
    return "".join(out)


def _attribution(d: Decision, figure: tuple[str, bytes] | None, href: Callable[[str], str]) -> str:
    if not d.attribution:
        return ""
    keys = [k for k in BUCKETS if any(b.key == k and b.count for a in d.attribution for b in a.buckets)]
    rows = []
    for a in d.attribution:
        counts = {b.key: b for b in a.buckets}
        cells = []
        for k in keys:
            bucket = counts.get(k)
            text = esc(bucket.count if bucket else 0)
            if bucket and bucket.oracle_right:
                text += f' <span class="counts">({bucket.oracle_right} oracle-right)</span>'
            cells.append(text)
        rows.append([esc(a.system), esc(a.n)] + cells)
    head = ["system", "n"] + [BUCKETS[k] for k in keys]
    out = ['<h3 id="decision-failures">Where each system fails</h3>',
           f"<p>One bucket per example: right/wrong by {esc(d.correctness or 'n/a')}, format by {esc(d.format or 'n/a')}; "
           "retrieval misses use the reference documents, the oracle splits the rest. Ids link to the samples.</p>",
           _table(head, rows), _figure(figure)]
    for a in d.attribution:
        items = [f'<li><span class="swatch b-{esc(b.key)}"></span>{esc(b.label)} ({b.count}): '
                 f'<span class="ids">{example_links(b.ids, href)}</span></li>' for b in a.buckets if b.key != "correct" and b.count]
        if items:
            out.append(f"<details><summary>{esc(a.system)}: example ids per bucket</summary>"
                       f'<ul class="ids">{"".join(items)}</ul></details>')
    return "".join(out)


def _matrix(d: Decision) -> str:
    if not d.matrix and not d.rules:
        return ""
    roles = [r for r in ("base", "few_shot", "rag", "finetuned", "hybrid") if any(r in row.cells for row in d.matrix)]
    rows = []
    for row in d.matrix:
        cells = []
        for r in roles:
            text = esc(num(row.cells[r].mean)) if r in row.cells else "–"
            cells.append(f"<b>{text}</b>" if r == row.winner or r in row.tied else text)
        lead = f"{esc(ROLE_LABELS[row.winner])} by {esc(row.lead.text)}" if row.lead and row.winner else "tie"
        rows.append([esc(row.aspect), esc(row.metric), esc(row.tag or "all")] + cells + [lead])
    head = ["aspect", "metric", "tag"] + [ROLE_LABELS[r] for r in roles] + ["lead (paired, CI)"]
    return ('<h3 id="decision-matrix">Knowledge vs behaviour</h3>' + (_table(head, rows) if rows else "")
            + _list(r.text for r in d.rules))


def _costs(d: Decision, figure: tuple[str, bytes] | None) -> str:
    c = d.costs
    if not c.systems:
        return ""

    def ms(value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value * 1000:.0f}" if value >= 0.1 else f"{value * 1000:.3g}"

    rows = []
    for s in c.systems:
        built = ", ".join(p for p in (f"training {s.training_s:.0f} s" if s.training_s is not None else "",
                                      f"index {s.index_build_s:.3g} s" if s.index_build_s is not None else "") if p)
        one_off = ("n/a" if s.one_off_usd is None else f"${s.one_off_usd:.4g}") + (f" ({built})" if built else "")
        rows.append([esc(s.system), esc(f"{ms(s.total.p50)} / {ms(s.total.p95)}"),
                     esc(f"{ms(s.retrieval.p50)} / {ms(s.retrieval.p95)}" if s.retrieval else "–"),
                     esc(f"{ms(s.generation.p50)} / {ms(s.generation.p95)}" if s.generation else "–"),
                     esc("n/a" if s.tokens_in is None else f"{s.tokens_in:.0f} / {s.tokens_out or 0:.0f}"),
                     esc("n/a" if s.usd_per_1k is None else f"${s.usd_per_1k:.4g}"), esc(one_off)])
    head = ["system", "latency p50 / p95 (ms)", "retrieval p50 / p95", "generation p50 / p95", "tokens in / out",
            "per 1,000 queries", "one-off"]
    notes = list(c.retrieval_overhead) + [b.text for b in c.break_even]
    if not c.break_even and not any("no break-even" in n for n in c.notes):
        notes.append("no break-even: no system is both cheaper per query and dearer up front than another")
    notes += [f"{s.system}: {n}" for s in c.systems for n in s.one_off_notes] + list(c.notes)
    sources = price_sources(c)
    return ('<h3 id="decision-costs">Cost and latency</h3>' + _table(head, rows) + f"<p>Prices: {esc(sources)}.</p>"
            + _list(notes) + _figure(figure))


def _freshness(d: Decision, href: Callable[[str], str]) -> str:
    f = d.freshness
    title = '<h3 id="decision-freshness">Freshness</h3>'
    if f is None:
        return title + ("<p>The suite declares no <code>updates:</code>, so how each approach copes with changed facts "
                        "is not measured.</p>")
    rows = [[esc(r.system), "yes" if r.reindexed else "no", esc(r.n_changed), esc(num(r.before)), esc(num(r.after)),
             _effect_cell(r.loss), esc(r.stale) + (f" ({example_links(r.stale_ids, href)})" if r.stale_ids else ""),
             esc(num(r.unchanged_after)) if r.n_unchanged else "–"] for r in f.rows]
    head = ["system", "re-indexed", "n", "before", "after", "after − before [CI]", "still old fact", "unchanged after"]
    intro = (f"<p>After the update to <code>{esc(f.corpus)}</code>: {len(f.changed)} changed and {len(f.unchanged)} "
             f"unchanged example(s). Changed: {example_links(f.changed, href)}</p>")
    return title + intro + _table(head, rows) + _list([r.text for r in f.rows] + f.notes)


def _power(d: Decision) -> str:
    if not d.power:
        return ""
    rows = [[esc(f"{EFFECTS[e.key][0]} ({e.formula})"), esc(e.metric), esc(e.n),
             esc(num(e.power.sd)) if e.power and e.power.sd is not None else "n/a",
             esc(num(e.power.mde)) if e.power and e.power.mde is not None else "n/a",
             esc(f"{e.power.n_for_target:,}") if e.power and e.power.n_for_target else "n/a"] for e in d.power]
    return ('<h3 id="decision-power">Power</h3><p>Smallest true difference each main comparison detects with 80% power '
            "at α = 0.05 (two-sided, normal approximation), and the examples needed to detect 0.05.</p>"
            + _table(["comparison", "metric", "n", "sd of differences", "MDE", "n for 0.05"], rows)
            + _list(f"{EFFECTS[e.key][0]}: {describe_power(e.power)}" for e in d.power if e.power))
