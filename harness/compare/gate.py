"""The gate: a run judged against a baseline by the suite's `gate` rules -> pass, fail or unusable.

Floors and ceilings (`min`, `max`) look at the run alone. `max_drop` (for higher-is-better
metrics) and `max_increase` (for lower-is-better ones) look at the paired delta against the
baseline and, when significance is required, fail only if the change is also significant: a
one-sided sign-flip p-value ("did it get worse?"), Holm-adjusted over every (system, metric)
pair the delta rules test, so the gate's false-alarm rate stays at most alpha however many
metrics it watches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from harness.compare.changes import Change
from harness.compare.compare import Comparison, CompareSettings, compare
from harness.suite.gate import GateConfig, GateRule
from harness.run.scores import ScoreSet
from harness.errors import HarnessError

EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
_EPS = 1e-12


@dataclass
class Check:
    rule: int
    rule_label: str
    system: str
    metric: str
    kind: str  # min | max | max_drop | max_increase | scores
    status: str  # pass | fail | noise (beyond the threshold, not significant) | skip
    message: str
    threshold: float | None = None
    base_mean: float | None = None
    new_mean: float | None = None
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_holm: float | None = None


@dataclass
class GateResult:
    config: GateConfig
    comparison: Comparison
    checks: list[Check]
    blocked: list[Change] = field(default_factory=list)  # set-up changes that stop the gate
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def exit_code(self) -> int:
        if self.blocked:
            return EXIT_USAGE
        return EXIT_REGRESSION if self.failures else EXIT_PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": {EXIT_PASS: "pass", EXIT_REGRESSION: "fail", EXIT_USAGE: "blocked"}[self.exit_code],
            "exit_code": self.exit_code,
            "gate": self.config.model_dump(mode="json"),
            "blocked": [asdict(c) for c in self.blocked],
            "notes": self.notes,
            "checks": [asdict(c) for c in self.checks],
            "comparison": self.comparison.to_dict(),
        }


def evaluate(
    config: GateConfig, baseline: ScoreSet, run: ScoreSet, *, allow_changed: bool = False, seed: int = 0
) -> GateResult:
    """Judge `run` against `baseline`. Raises HarnessError for a rule that matches nothing."""
    from harness.stats.paired import holm

    comparison = compare(baseline, run, CompareSettings(permutations=config.permutations, alpha=config.alpha, seed=seed))
    result = GateResult(config, comparison, [])
    if comparison.changes and not allow_changed:
        result.blocked = list(comparison.changes)
        return result
    matches = [_matches(i, rule, run) for i, rule in enumerate(config.rules)]
    family = sorted({pair for i, rule in enumerate(config.rules) for pair in matches[i] if _delta_kinds(rule, run, pair[1])})
    rows = {pair: comparison.row(*pair) for pair in family}
    tested = [pair for pair in family if rows[pair] is not None and rows[pair].n_paired > 0]
    adjusted = dict(zip(tested, holm([rows[p].p_worse for p in tested])))
    no_scores: set[tuple[str, str]] = set()
    for i, rule in enumerate(config.rules):
        for system, metric in matches[i]:
            for check in _check(i, rule, config, comparison, run, system, metric, adjusted.get((system, metric))):
                if check.kind == "scores":  # report a pair without ok scores once, not once per rule
                    if (system, metric) in no_scores:
                        continue
                    no_scores.add((system, metric))
                result.checks.append(check)
    result.notes = _notes(comparison)
    return result


def _delta_kinds(rule: GateRule, run: ScoreSet, metric: str) -> list[tuple[str, float]]:
    """The baseline comparisons a rule makes for a metric: a drop only matters where higher is
    better, an increase only where lower is better (so `metric: "*"` does the right thing). The
    direction is the one the run's metric declared."""
    up = run.higher_is_better(metric)
    kinds = [("max_drop", rule.max_drop)] if up else [("max_increase", rule.max_increase)]
    return [(kind, limit) for kind, limit in kinds if limit is not None]


def _matches(index: int, rule: GateRule, run: ScoreSet) -> list[tuple[str, str]]:
    """(system, metric) pairs of the run this rule checks; metrics undefined everywhere skipped."""
    found = []
    for system in run.systems:
        if not fnmatchcase(system, rule.system):
            continue
        for metric in run.metrics(system):
            counts = run.counts(system, metric)
            applies = rule.min is not None or rule.max is not None or _delta_kinds(rule, run, metric)
            if fnmatchcase(metric, rule.metric) and (counts["ok"] or counts["error"]) and applies:
                found.append((system, metric))
    if not found:
        raise HarnessError(
            f"gate.rules[{index}] (metric {rule.metric!r}, system {rule.system!r}) matches no scored metric "
            f"of the run's systems ({', '.join(run.systems) or 'none'}) that it can check "
            "(max_drop checks higher-is-better metrics, max_increase lower-is-better ones)"
        )
    return found


def _check(
    index: int, rule: GateRule, config: GateConfig, comparison: Comparison, run: ScoreSet,
    system: str, metric: str, p_holm: float | None,
) -> list[Check]:
    label = rule.label()
    new_mean = run.mean(system, metric)
    counts = run.counts(system, metric)
    row = comparison.row(system, metric)
    base = dict(rule=index, rule_label=label, system=system, metric=metric, new_mean=new_mean)
    base["base_mean"] = row.base_mean if row is not None else None
    if new_mean is None:
        return [Check(**base, kind="scores", status="fail", message=f"no ok scores ({counts['error']} errors)")]
    checks = []
    for kind, bound in (("min", rule.min), ("max", rule.max)):
        if bound is None:
            continue
        bad = new_mean < bound - _EPS if kind == "min" else new_mean > bound + _EPS
        word = "below the floor" if kind == "min" else "above the ceiling"
        message = f"mean {new_mean:.4g} {word} {bound:g}" if bad else f"mean {new_mean:.4g} within {kind} {bound:g}"
        checks.append(Check(**base, kind=kind, status="fail" if bad else "pass", message=message, threshold=bound))
    for kind, limit in _delta_kinds(rule, run, metric):
        checks.append(_delta_check(base, kind, limit, rule, config, row, p_holm))
    return checks


def _delta_check(
    base: dict[str, Any], kind: str, limit: float, rule: GateRule, config: GateConfig, row: Any, p_holm: float | None
) -> Check:
    if row is None or row.n_paired == 0:
        why = "not in the baseline" if row is None else "no example scored ok in both"
        return Check(**base, kind=kind, status="skip", message=f"skipped: {why}")
    threshold = limit * abs(row.base_mean or 0.0) if rule.relative else limit
    worse_by = -row.delta if kind == "max_drop" else row.delta
    stats = dict(threshold=threshold, delta=row.delta, ci_low=row.ci_low, ci_high=row.ci_high, p_holm=p_holm)
    verb = "dropped" if kind == "max_drop" else "rose"
    allowed = f"{kind} {limit:.0%} = {threshold:.4g}" if rule.relative else f"{kind} {threshold:g}"
    if worse_by <= threshold + _EPS:
        return Check(**base, kind=kind, status="pass", message=f"change {row.delta:+.4g} within {allowed}", **stats)
    significant = p_holm is not None and p_holm < config.alpha
    need = config.require_significance if rule.require_significance is None else rule.require_significance
    p_text = "p(Holm) " + ("n/a" if p_holm is None else ("< 0.001" if p_holm < 0.001 else f"= {p_holm:.3f}"))
    if need and not significant:
        noise = f"within noise ({p_text}, not below α = {config.alpha:g})"
        message = f"{verb} by {abs(row.delta):.4g}, beyond {allowed}, but {noise}"
        return Check(**base, kind=kind, status="noise", message=message, **stats)
    sig = f"significant at α = {config.alpha:g}, {p_text}" if significant else f"{p_text}; significance not required"
    message = f"{verb} by {abs(row.delta):.4g} ({row.base_mean:.4g} → {base['new_mean']:.4g}), beyond {allowed} ({sig})"
    return Check(**base, kind=kind, status="fail", message=message, **stats)


def _notes(comparison: Comparison) -> list[str]:
    notes = [f"set-up changed, compared anyway (--allow-changed): {c}" for c in comparison.changes]
    if comparison.systems_only_base:
        notes.append(f"systems in the baseline but not in the run: {', '.join(comparison.systems_only_base)}")
    if comparison.systems_only_new:
        notes.append(f"systems not in the baseline (floors only): {', '.join(comparison.systems_only_new)}")
    for cov in comparison.coverage:
        if cov.only_base or cov.only_new:
            notes.append(
                f"{cov.system}: {len(cov.only_base)} example(s) only in the baseline, {len(cov.only_new)} only in the run"
            )
    notes += [f"run degraded: {d}" for d in comparison.new.degraded]
    return notes


def load_gate_config(suite_path: str | Path) -> GateConfig:
    """The `gate` section of a suite file, validated on its own (no registries, no dataset)."""
    from pydantic import ValidationError

    from harness.suite.yaml_file import read_suite_file

    path = Path(suite_path)
    if not path.is_file():
        raise HarnessError("cannot read the suite file (no such file); pass --suite FILE", where=str(path))
    raw, _ = read_suite_file(path)
    gate = raw.get("gate")
    if gate is None:
        raise HarnessError(
            "the suite has no `gate:` section; add one, e.g. gate: {rules: [{metric: exact_match, max_drop: 0.02}]}",
            where=str(path),
        )
    try:
        return GateConfig.model_validate(gate)
    except ValidationError as error:
        problems = [f"gate{_loc(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()]
        raise HarnessError(f"{len(problems)} problem(s) in the gate section", where=str(path), problems=problems) from None


def _loc(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
