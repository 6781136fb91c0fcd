"""report.md: the run at a glance in plain text, readable in a terminal, a PR comment or git diff.

The cell texts and header facts built here are reused by the HTML report so both say the same.
"""

from __future__ import annotations

from typing import Any

from harness.report.data import RunData

BEST = "★"


def md(text: Any) -> str:
    """Dataset/model text inside Markdown: no pipes or newlines, and no raw HTML tags (a `<`
    is written as `&lt;`, which renderers show as `<`; `>` and `&` stay readable in a terminal)."""
    text = str(text).replace("<", "&lt;")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def facts(data: RunData) -> list[tuple[str, str]]:
    """The header facts a reader needs to trust (or distrust) the numbers."""
    h = data.header
    counts, git, dataset = h.counts, h.git, h.dataset
    models = sorted({str(c["model"]) for c in h.systems.values() if c.get("model")})
    commit = (git.commit or "unknown")[:12] + (" (uncommitted changes)" if git.dirty else "")
    n_test = "?" if dataset.n_test is None else dataset.n_test
    n_train = "?" if dataset.n_train is None else dataset.n_train
    return [
        ("Suite", f"{h.suite.name} (hash {str(h.suite.content_hash or 'unknown')[:12]})"),
        ("Status", h.status),
        ("Samples", f"{counts.done} of {counts.planned} planned, {counts.errors} with errors"),
        ("Dataset", f"{n_test} test / {n_train} train examples"),
        ("Models", ", ".join(models) or "none"),
        ("Judge", str(h.judge.model or "offline / none")),
        *(("Faithfulness judge", text) for text in judge_lines(data)),
        ("Run", f"{h.run_id} from {h.started_at} to {h.ended_at or 'unfinished'}"),
        ("Git commit", commit),
    ]


def notices(data: RunData) -> list[str]:
    """Things that make the numbers less trustworthy, loudest first."""
    h = data.header
    found = []
    if h.status != "complete":
        found.append(f"run status is {h.status!r}: numbers cover finished samples only")
    found += [f"degraded: {d}" for d in h.degraded]
    found += [f"warning: {w}" for w in h.warnings]
    return found


def metric_cell(data: RunData, system: str, metric: str) -> tuple[str, str, bool]:
    """(value text, counts text, is best) for one summary cell."""
    row = data.cell(system, metric)
    if row is None:
        return "n/a", "not scored", False
    if row["mean"] is None:
        value = "n/a"
    elif row["ci_low"] is not None and row["ci_high"] is not None:
        value = f"{data.fmt(metric, row['mean'])} [{data.fmt(metric, row['ci_low'])}, {data.fmt(metric, row['ci_high'])}]"
    else:
        value = data.fmt(metric, row["mean"])
    counts = [f"n={row['n']}"]
    if row["n_undefined"]:
        counts.append(f"{row['n_undefined']} undefined")
    if row["n_error"]:
        counts.append(f"{row['n_error']} error{'s' if row['n_error'] != 1 else ''}")
    return value, ", ".join(counts), system in data.best(metric)


def direction_note(data: RunData) -> str:
    lower = [m for m in data.metrics if data.lower_is_better(m)]
    note = f"{BEST} best per metric (higher is better"
    note += f"; lower is better for {', '.join(lower)})" if lower else ")"
    return note


SYSTEM_COLUMNS = ["system", "kind", "model", "samples", "errors", "latency p50 / p95 (s)", "retried",
                  "tokens in", "tokens out", "cost (USD)"]


def system_rows(data: RunData) -> list[list[str]]:
    """One row per system, in SYSTEM_COLUMNS order. Latency is the system's own time per successful
    sample (harness.report.latency); `retried`: samples whose call took more than one attempt;
    tokens and cost are totals over the run's samples."""
    models = {s: str(c.get("model") or c.get("model_name") or "") for s, c in data.header.systems.items()}
    counts, errors = data.sample_counts(), data.errors()
    latency = data.stats.latency  # gathered in the one pass over the samples
    return [
        [s, data.kinds[s], models.get(s, ""), str(counts.get(s, 0)), str(errors.get(s, 0)),
         latency.p50_p95(s), latency.retried_text(s),
         _total(data, s, "tokens_in", "{:,.0f}"), _total(data, s, "tokens_out", "{:,.0f}"), _total(data, s, "cost_usd", "{:.4g}")]
        for s in data.systems
    ]  # fmt: skip


def _total(data: RunData, system: str, metric: str, pattern: str) -> str:
    """The sum over ok scores, with how many samples it leaves out; n/a when nothing was reported."""
    cell = data.tally.cells.get((system, metric))
    if cell is None or not cell.n:
        return "n/a"
    missing = cell.n_undefined + cell.n_error
    return pattern.format(cell.total) + (f" ({missing} without a value)" if missing else "")


def judge_lines(data: RunData) -> list[str]:
    """Which judge scored faithfulness, and how well it agrees with human labels (measured by the
    harness's own benchmark), so a reader knows how far to trust that column."""
    lines = []
    for name, detail in data.stats.judges.items():  # the first sample naming each score's judge
        label = f"{name}: {detail.get('judge')}" + (f" {detail['judge_version']}" if detail.get("judge_version") else "")
        agreement = detail.get("agreement")
        if agreement and agreement.get("auc") is not None:
            low, high = (agreement.get("auc_ci95") or [None, None])[:2]
            ci = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
            label += f"; agreement with human labels: AUC {agreement['auc']:.2f}{ci}, n={agreement.get('n', '?')}"
        else:
            label += "; agreement with human labels not measured"
        lines.append(label)
    return lines


def tag_table(data: RunData, metric: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the system x tag table for one metric."""
    sizes = data.tag_sizes()
    tags = data.tags()
    means = data.tag_means(metric)
    head = ["system"] + [f"{t} ({sizes.get(t, 0)})" for t in tags]
    rows = [[s] + [data.fmt(metric, means[s][t][0]) for t in tags] for s in data.systems]
    return head, rows


def result_groups(data: RunData) -> list[tuple[str, list[str]]]:
    """Quality and cost-side metrics in separate tables: narrower, and read differently."""
    cost = [m for m in data.metrics if data.lower_is_better(m)]
    groups = [("Quality", data.main_metrics()), ("Latency, tokens and cost", cost)]
    return [(title, metrics) for title, metrics in groups if metrics]


def tag_metrics(data: RunData) -> list[str]:
    """Every metric gets its per-tag table, quality first: none is left out silently (a wrongly
    declined rate or a latency differs by tag as much as an accuracy does)."""
    return data.main_metrics() + [m for m in data.metrics if data.lower_is_better(m)]


def tag_heading(data: RunData, metric: str) -> str:
    """The metric's name, with its direction where lower is better (the tables' default reading)."""
    return f"{metric} (lower is better)" if data.lower_is_better(metric) else metric


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell for cell in row) + " |" for row in rows]
    return lines


def render_markdown(data: RunData, decision: str | None = None) -> str:
    """`decision`: the Decision section's Markdown (harness.decision), placed first after the facts."""
    h = data.header
    lines = [f"# Run report: {md(h.suite.name)}", ""]
    if h.suite.description:
        lines += [md(h.suite.description), ""]
    lines += [f"- **{label}:** {md(value)}" for label, value in facts(data)]
    lines.append("")
    for notice in notices(data):
        lines.append(f"> **⚠ {md(notice)}**")
        lines.append("")
    if decision:
        lines += [decision.rstrip(), ""]

    lines += ["## Systems", ""]
    lines += _table(SYSTEM_COLUMNS, [[md(c) for c in r] for r in system_rows(data)])

    lines += ["", "## Results", "", f"Mean [95% CI], counts. {direction_note(data)}. n/a: no defined value."]
    for title, metrics in result_groups(data):
        rows = []
        for system in data.systems:
            row = [md(system)]
            for metric in metrics:
                value, counts, best = metric_cell(data, system, metric)
                row.append(f"{BEST} **{value}** ({counts})" if best else f"{value} ({counts})")
            rows.append(row)
        lines += ["", f"### {title}", ""] + _table(["system"] + metrics, rows)
    if not data.metrics:
        lines += ["", "No scores recorded."]

    lines += ["", "## By tag", ""]
    if not data.tags():
        lines.append("The dataset has no tags.")
    for metric in tag_metrics(data) if data.tags() else []:
        head, rows = tag_table(data, metric)
        lines += [f"### {md(tag_heading(data, metric))}", "", "Mean per tag (examples per tag in brackets).", ""]
        lines += _table(head, [[md(c) for c in r] for r in rows])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
