"""The Decision section as Markdown: report.md's first section and `harness decide`'s output.

Only formats a `Decision`; every number and sentence was made by the analysis. Text from the
run (system names, tags, example ids) goes through `md` so a pipe or a tag cannot break a table.
"""

from __future__ import annotations

from typing import Iterable

from harness.decision.attribution import BUCKETS
from harness.decision.effects import EFFECTS, num
from harness.decision.model import Costs, Decision, Effect
from harness.stats.power import describe as describe_power

MAX_IDS = 40
ROLE_LABELS = {"base": "base", "few_shot": "few-shot", "rag": "RAG", "finetuned": "fine-tuned", "hybrid": "hybrid",
               "oracle": "oracle"}
MARKS = {"better": "▲", "worse": "▼", "no_difference": "≈", "too_few": "?", "not_measured": "–"}


def md(text: object) -> str:
    return str(text).replace("<", "&lt;").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def ids_text(ids: list[str], limit: int = MAX_IDS) -> str:
    shown = ", ".join(md(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def effect_cell(effect: Effect | None) -> str:
    if effect is None:
        return "–"
    if effect.delta is None:
        return "n/a"
    return f"{MARKS[effect.verdict]} {num(effect.delta, None, True)} [{num(effect.ci_low, None, True)}, {num(effect.ci_high, None, True)}]"


def effect_line(effect: Effect) -> str:
    tag = f", tag {md(effect.tag)}" if effect.tag else ""
    return f"- **{EFFECTS[effect.key][0].capitalize()}** ({effect.formula}) on {md(effect.metric)}{tag}: {effect.text}"


def render_markdown(decision: Decision, *, charts: dict[str, str] | None = None, level: int = 2) -> str:
    """`charts`: chart key ("attribution", "break_even") -> relative path of its SVG."""
    h, hh = "#" * level, "#" * (level + 1)
    charts = charts or {}
    rec = decision.recommendation
    lines = [f"{h} Decision", "", f"**Recommendation.** {md(rec.text)}", ""]
    if rec.evidence:
        lines += ["Evidence:", ""] + [f"- {md(e)}" for e in rec.evidence] + [""]
    if rec.caveats:
        lines += ["Caveats:", ""] + [f"- {md(c)}" for c in rec.caveats] + [""]
    lines += [f"- {md(n)}" for n in decision.notes] + ([""] if decision.notes else [])
    lines += _roles(decision, hh) + _effects(decision, hh) + _attribution(decision, hh, charts.get("attribution"))
    lines += _matrix(decision, hh) + _costs(decision, hh, charts.get("break_even")) + _freshness(decision, hh)
    lines += _power(decision, hh)
    return "\n".join(lines).rstrip() + "\n"


def _roles(d: Decision, hh: str) -> list[str]:
    rows = [[ROLE_LABELS[r.role], md(r.system or "—"), md(r.how)] for r in d.roles.details]
    lines = [f"{hh} Roles", ""] + table(["role", "system", "how"], rows) + [""]
    lines += [f"- {md(n)}" for n in d.roles.notes]
    return lines + ([""] if d.roles.notes else [])


def _effects(d: Decision, hh: str) -> list[str]:
    lines = [f"{hh} Effects", "",
             f"Paired differences over the examples every system involved scored ok, with {d.confidence:.0%} "
             "bootstrap CIs; the words follow the CI (▲ better, ▼ worse, ≈ no detectable difference, ? too few).", ""]
    primary = [e for e in d.effects if e.metric in (d.correctness, d.format)]
    lines += [effect_line(e) for e in primary] or ["No effect could be measured (see Roles)."]
    others = [e for e in d.effects if e not in primary]
    metrics = list(dict.fromkeys(e.metric for e in others))
    if metrics:
        keys = [k for k in EFFECTS if any(e.key == k for e in others)]
        rows = [[md(m)] + [effect_cell(next((e for e in others if e.metric == m and e.key == k), None)) for k in keys]
                for m in metrics]
        lines += ["", "Other quality metrics:", ""] + table(["metric"] + [EFFECTS[k][0] for k in keys], rows)
    if d.tag_effects:
        keys = [k for k in EFFECTS if any(e.key == k for e in d.tag_effects)]
        pairs = list(dict.fromkeys((e.tag, e.metric) for e in d.tag_effects))
        rows = [[md(t), md(m)] + [effect_cell(next((e for e in d.tag_effects if (e.tag, e.metric, e.key) == (t, m, k)), None))
                                  for k in keys] + [str(max((e.n for e in d.tag_effects if (e.tag, e.metric) == (t, m)), default=0))]
                for t, m in pairs]
        lines += ["", "By tag:", ""] + table(["tag", "metric"] + [EFFECTS[k][0] for k in keys] + ["n"], rows)
    return lines + [""]


def _attribution(d: Decision, hh: str, chart: str | None) -> list[str]:
    if not d.attribution:
        return []
    lines = [f"{hh} Where each system fails", "",
             f"One bucket per example: right/wrong by {md(d.correctness or 'n/a')}, format by {md(d.format or 'n/a')}; "
             "retrieval misses use the examples' reference documents, the oracle splits the rest.", ""]
    keys = [k for k in BUCKETS if any(b.key == k and b.count for a in d.attribution for b in a.buckets)]
    rows = []
    for a in d.attribution:
        counts = {b.key: b for b in a.buckets}
        cells = []
        for k in keys:
            bucket = counts.get(k)
            text = str(bucket.count) if bucket else "0"
            if bucket and bucket.oracle_right:
                text += f" ({bucket.oracle_right} oracle-right)"
            cells.append(text)
        rows.append([md(a.system), str(a.n)] + cells)
    lines += table(["system", "n"] + [BUCKETS[k] for k in keys], rows)
    if chart:
        lines += ["", f"![Where each system fails]({chart})"]
    lines += ["", "Example ids per bucket:", ""]
    for a in d.attribution:
        parts = [f"{b.label} ({b.count}): {ids_text(b.ids)}" for b in a.buckets if b.key != "correct" and b.count]
        if parts:
            lines.append(f"- **{md(a.system)}**: " + "; ".join(parts))
    return lines + [""]


def _matrix(d: Decision, hh: str) -> list[str]:
    if not d.matrix and not d.rules:
        return []
    lines = [f"{hh} Knowledge vs behaviour", ""]
    roles = [r for r in ("base", "few_shot", "rag", "finetuned", "hybrid") if any(r in row.cells for row in d.matrix)]
    rows = []
    for row in d.matrix:
        cells = [num(row.cells[r].mean) if r in row.cells else "–" for r in roles]
        cells = [f"**{c}**" if r == row.winner or r in row.tied else c for c, r in zip(cells, roles)]
        lead = f"{ROLE_LABELS[row.winner]} by {row.lead.text}" if row.lead and row.winner else "tie"
        rows.append([row.aspect, md(row.metric), md(row.tag or "all")] + cells + [lead])
    if rows:
        lines += table(["aspect", "metric", "tag"] + [ROLE_LABELS[r] for r in roles] + ["lead (paired, CI)"], rows) + [""]
    lines += [f"- {md(r.text)}" for r in d.rules]
    return lines + [""]


def _costs(d: Decision, hh: str, chart: str | None) -> list[str]:
    c = d.costs
    if not c.systems:
        return []

    def ms(value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value * 1000:.0f}" if value >= 0.1 else f"{value * 1000:.3g}"

    rows = []
    for s in c.systems:
        one_off = "n/a" if s.one_off_usd is None else f"${s.one_off_usd:.4g}"
        built = ", ".join(p for p in (f"training {s.training_s:.0f} s" if s.training_s is not None else "",
                                      f"index {s.index_build_s:.3g} s" if s.index_build_s is not None else "") if p)
        rows.append([
            md(s.system), f"{ms(s.total.p50)} / {ms(s.total.p95)}",
            f"{ms(s.retrieval.p50)} / {ms(s.retrieval.p95)}" if s.retrieval else "–",
            f"{ms(s.generation.p50)} / {ms(s.generation.p95)}" if s.generation else "–",
            "n/a" if s.tokens_in is None else f"{s.tokens_in:.0f} / {s.tokens_out or 0:.0f}",
            "n/a" if s.usd_per_1k is None else f"${s.usd_per_1k:.4g}",
            f"{one_off}" + (f" ({built})" if built else ""),
        ])
    lines = [f"{hh} Cost and latency", ""]
    lines += table(["system", "latency p50 / p95 (ms)", "retrieval p50 / p95", "generation p50 / p95",
                    "tokens in / out", "per 1,000 queries", "one-off"], rows)
    lines += ["", "Prices: " + md(price_sources(c)) + "."]
    lines += [f"- {md(t)}" for t in c.retrieval_overhead]
    lines += [f"- {md(b.text)}" for b in c.break_even]
    if not c.break_even and not any("no break-even" in n for n in c.notes):
        lines.append("- no break-even: no system is both cheaper per query and dearer up front than another")
    for s in c.systems:
        lines += [f"- {md(s.system)}: {md(n)}" for n in s.one_off_notes]
    lines += [f"- {md(n)}" for n in c.notes]
    if chart:
        lines += ["", f"![Total cost against monthly volume]({chart})"]
    return lines + [""]


def _freshness(d: Decision, hh: str) -> list[str]:
    f = d.freshness
    lines = [f"{hh} Freshness", ""]
    if f is None:
        return lines + ["The suite declares no `updates:`, so how each approach copes with changed facts is not "
                        "measured (see docs/decision.md).", ""]
    lines += [f"After the update to `{md(f.corpus)}`: {len(f.changed)} changed and {len(f.unchanged)} unchanged "
              f"example(s); changed: {ids_text(f.changed)}.", ""]
    rows = [[md(r.system), "yes" if r.reindexed else "no", str(r.n_changed), num(r.before), num(r.after),
             effect_cell(r.loss), str(r.stale), num(r.unchanged_after) if r.n_unchanged else "–"] for r in f.rows]
    lines += table(["system", "re-indexed", "n", "before", "after", "after − before [CI]", "still old fact",
                    "unchanged after"], rows)
    lines += [""] + [f"- {md(r.text)}" for r in f.rows] + [f"- {md(n)}" for n in f.notes]
    return lines + [""]


def price_sources(costs: Costs) -> str:
    """'cost.prices.local/m ($0.1/hour ...) for prompt, rag; unknown for keyword_baseline'."""
    grouped: dict[str, list[str]] = {}
    for s in costs.systems:
        grouped.setdefault(s.price_source, []).append(s.system)
    return "; ".join(f"{source} for {', '.join(systems)}" for source, systems in grouped.items())


def _power(d: Decision, hh: str) -> list[str]:
    rows = [[f"{EFFECTS[e.key][0]} ({e.formula})", md(e.metric), str(e.n),
             num(e.power.sd) if e.power and e.power.sd is not None else "n/a",
             num(e.power.mde) if e.power and e.power.mde is not None else "n/a",
             f"{e.power.n_for_target:,}" if e.power and e.power.n_for_target else "n/a"] for e in d.power]
    if not rows:
        return []
    lines = [f"{hh} Power", "",
             "The smallest true difference each main comparison detects with 80% power at α = 0.05 (two-sided, "
             "normal approximation from the paired differences' spread), and the examples needed to detect 0.05.", ""]
    lines += table(["comparison", "metric", "n", "sd of differences", "MDE", "n for 0.05"], rows)
    lines += [""] + [f"- {EFFECTS[e.key][0]}: {describe_power(e.power)}" for e in d.power if e.power]
    return lines + [""]
