"""Markdown (for terminals and pull-request comments) and JSON renderings of compare and gate.

Every table row is built from the same column list as its header, so column counts always match.
"""

from __future__ import annotations

import json
from typing import Any

from harness.compare.compare import Comparison, Row
from harness.compare.gate import GateResult

MARKER = "<!-- harness-eval-gate -->"  # lets a CI step find and update its earlier comment
MAX_IDS = 10


def num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "0" if value == 0 else f"{value:.4g}"


def signed(value: float | None) -> str:
    return "n/a" if value is None else ("0" if value == 0 else f"{value:+.4g}")


def pval(value: float | None) -> str:
    return "n/a" if value is None else ("<0.001" if value < 0.001 else f"{value:.3f}")


def interval(low: float | None, high: float | None) -> str:
    return "n/a" if low is None or high is None else f"[{signed(low)}, {signed(high)}]"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]], align: list[str] | None = None) -> list[str]:
    align = align or ["l"] * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    for row in rows:
        assert len(row) == len(header), (row, header)
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines


def ids(items: list[str]) -> str:
    shown = ", ".join(f"`{i}`" for i in items[:MAX_IDS])
    return shown + (f" and {len(items) - MAX_IDS} more" if len(items) > MAX_IDS else "")


def comparison_table(comparison: Comparison, rows: list[Row] | None = None) -> list[str]:
    alpha = comparison.settings.alpha
    confidence = f"{comparison.settings.confidence:.0%} CI"
    header = ["System", "Metric", "Base", "New", "Δ", confidence, "p", "p (Holm)", "n paired", "Change"]
    body = [
        [
            r.system + (" (config changed)" if r.config_changed else ""),
            f"{r.metric} {r.arrow}",
            num(r.base_mean),
            num(r.new_mean),
            signed(r.delta),
            interval(r.ci_low, r.ci_high),
            pval(r.p_value),
            pval(r.p_holm),
            r.n_paired,
            {"worse": "**worse**", "better": "better", "": ""}[r.verdict(alpha)],
        ]
        for r in (comparison.rows if rows is None else rows)
    ]
    return table(header, body, ["l", "l", "r", "r", "r", "l", "r", "r", "r", "l"])


def method_line(comparison: Comparison) -> str:
    s = comparison.settings
    return (
        f"Δ = new − base over examples scored ok in both (paired by example id), with a {s.confidence:.0%} paired "
        f"bootstrap CI; p from a two-sided paired sign-flip permutation test ({s.permutations:,} permutations, exact "
        f"for ≤16 non-zero differences); Holm-adjusted over {len(comparison.rows)} comparisons, α = {s.alpha:g}. "
        "↑ higher is better, ↓ lower is better."
    )


def coverage_lines(comparison: Comparison) -> list[str]:
    lines = []
    for cov in comparison.coverage:
        if cov.only_base:
            lines.append(f"- `{cov.system}`: {len(cov.only_base)} example(s) only in base: {ids(cov.only_base)}")
        if cov.only_new:
            lines.append(f"- `{cov.system}`: {len(cov.only_new)} example(s) only in new: {ids(cov.only_new)}")
        if cov.edited:
            lines.append(f"- `{cov.system}`: {len(cov.edited)} example(s) changed content, not paired: {ids(cov.edited)}")
    if comparison.systems_only_base:
        lines.append(f"- systems only in base: {ids(comparison.systems_only_base)}")
    if comparison.systems_only_new:
        lines.append(f"- systems only in new: {ids(comparison.systems_only_new)}")
    for side, pairs in (("base", comparison.metrics_only_base), ("new", comparison.metrics_only_new)):
        if pairs:
            lines.append(f"- metrics only in {side}: {ids([f'{s}/{m}' for s, m in pairs])}")
    return lines


def comparison_markdown(comparison: Comparison) -> str:
    base, new = comparison.base, comparison.new
    lines = [
        f"## Comparison: suite `{new.suite_name}`",
        "",
        f"- base: {base.label()}",
        f"- new: {new.label()}",
        "",
    ]
    if comparison.changes:
        lines += ["**Set-up changed between the two** (differences may not be due to the code alone):", ""]
        lines += [f"- {c}" for c in comparison.changes] + [""]
    lines += comparison_table(comparison) if comparison.rows else ["_No metric is present in both._"]
    lines += ["", method_line(comparison)]
    extra = coverage_lines(comparison)
    if extra:
        lines += ["", "**Not compared:**", ""] + extra
    return "\n".join(lines) + "\n"


def gate_markdown(result: GateResult) -> str:
    comparison = result.comparison
    run, baseline = comparison.new, comparison.base
    failures = result.failures
    if result.blocked:
        title = "⚠️ Eval gate: cannot compare — the baseline does not match this run"
    elif failures:
        title = f"❌ Eval gate failed: {len(failures)} regression(s)"
    else:
        title = "✅ Eval gate passed"
    commit = (baseline.git or {}).get("commit")
    lines = [
        MARKER,
        f"## {title}",
        "",
        f"Suite `{run.suite_name}`: {run.label()} against baseline {baseline.label()}"
        + (f", commit `{str(commit)[:10]}`" if commit else "")
        + ".",
        "",
    ]
    if result.blocked:
        lines += ["Changed since the baseline was saved:", ""] + [f"- {c}" for c in result.blocked]
        lines += [
            "",
            "If the change is intended, re-save the baseline in this pull request "
            "(`harness baseline save RUN`), or gate with `--allow-changed` to compare anyway.",
        ]
        return "\n".join(lines) + "\n"
    if failures:
        lines += ["**Regressions:**", ""]
        lines += [f"- `{c.system}` · `{c.metric}`: {c.message}" for c in failures] + [""]
    noise = [c for c in result.checks if c.status == "noise"]
    if noise:
        lines += ["**Within noise (not failing):**", ""]
        lines += [f"- `{c.system}` · `{c.metric}`: {c.message}" for c in noise] + [""]
    header = ["Result", "System", "Metric", "Rule", "Baseline", "Run", "Δ", "CI", "p worse (Holm)"]
    body = [
        [
            {"pass": "pass", "fail": "**FAIL**", "noise": "noise", "skip": "skip"}[c.status],
            c.system,
            f"{c.metric} {'↑' if comparison.new.higher_is_better(c.metric) else '↓'}",
            c.rule_label,
            num(c.base_mean),
            num(c.new_mean),
            signed(c.delta),
            interval(c.ci_low, c.ci_high),
            pval(c.p_holm),
        ]
        for c in result.checks
    ]
    lines += table(header, body, ["l", "l", "l", "l", "r", "r", "r", "l", "r"])
    lines += [
        "",
        f"p worse: one-sided paired sign-flip test that the run is worse than the baseline, Holm-adjusted "
        f"over the {_family(result)} (system, metric) pairs the max_drop/max_increase rules test; α = "
        f"{result.config.alpha:g}. A change beyond its threshold "
        + ("fails only when significant." if result.config.require_significance else "fails whether or not significant."),
    ]
    power = power_lines(result)
    if power:
        lines += ["", "**Power** (what these rules can see):", ""] + power
    if result.notes:
        lines += ["", "**Notes:**", ""] + [f"- {n}" for n in result.notes]
    lines += ["", "<details><summary>All comparisons</summary>", ""]
    lines += comparison_table(comparison) + ["", method_line(comparison)]
    extra = coverage_lines(comparison)
    if extra:
        lines += [""] + extra
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def power_lines(result: GateResult) -> list[str]:
    """Per max_drop/max_increase check: the smallest change its paired comparison detects with 80%
    power (one-sided at the gate's α, before Holm, normal approximation) against its threshold,
    and the n that would detect 0.05, so a pass is read as "no drop this gate can see"."""
    from harness.stats.power import TARGET, mde, n_needed

    alpha = result.config.alpha
    lines, seen = [], set()
    for check in result.checks:
        if check.kind not in ("max_drop", "max_increase") or check.status == "skip":
            continue
        row = result.comparison.row(check.system, check.metric)
        if row is None or (check.system, check.metric, check.kind) in seen:
            continue
        seen.add((check.system, check.metric, check.kind))
        change = "drop" if check.kind == "max_drop" else "rise"
        if row.diff_sd is None or row.n_paired < 2:
            lines.append(f"- `{check.system}` · `{check.metric}`: power not estimable (n paired = {row.n_paired})")
            continue
        if row.diff_sd == 0:
            lines.append(f"- `{check.system}` · `{check.metric}`: every paired difference is equal (n = {row.n_paired}); "
                         "no spread to estimate power from")
            continue
        smallest = mde(row.diff_sd, row.n_paired, alpha=alpha, sides=1) or 0.0
        needed = n_needed(row.diff_sd, TARGET, alpha=alpha, sides=1)
        verdict = ("the threshold is within reach" if check.threshold is None or smallest <= check.threshold
                   else f"a real {change} at the threshold ({num(check.threshold)}) would often pass unnoticed")
        lines.append(f"- `{check.system}` · `{check.metric}`: detects a {change} of ≥ {num(smallest)} with 80% power "
                     f"(n = {row.n_paired}, sd of differences {num(row.diff_sd)}); {verdict}; "
                     f"{TARGET:g} needs n ≈ {needed:,}")
    return lines


def _family(result: GateResult) -> int:
    return len({(c.system, c.metric) for c in result.checks if c.p_holm is not None})


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"
