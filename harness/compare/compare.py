"""Two score sets -> one row per (system, metric): both means, the paired delta, its CI and p.

Pairs are examples scored `ok` in both sets (by example id); an example whose content changed
is never paired. Means are each side's own mean over its `ok` scores (as in summary.csv); the
delta is the mean paired difference, so the two agree whenever both runs cover the same examples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.compare.changes import Change, detect, edited_examples
from harness.run.scores import ScoreSet


@dataclass
class CompareSettings:
    permutations: int = 10_000
    bootstrap_samples: int = 2000
    confidence: float = 0.95
    alpha: float = 0.05
    seed: int = 0


@dataclass
class Row:
    system: str
    metric: str
    higher_is_better: bool
    base_mean: float | None
    new_mean: float | None
    n_base: int
    n_new: int
    n_paired: int
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-sided
    p_worse: float | None = None  # one-sided, for "new is worse than base" (the gate's question)
    exact: bool = False
    p_holm: float | None = None
    n_error_base: int = 0
    n_error_new: int = 0
    config_changed: bool = False
    diff_sd: float | None = None  # spread of the paired differences (for power statements)

    def significant(self, alpha: float) -> bool:
        return self.p_holm is not None and self.p_holm < alpha

    def verdict(self, alpha: float) -> str:
        """'better', 'worse' or '' (no significant change) after the Holm adjustment."""
        if self.delta is None or not self.significant(alpha):
            return ""
        worse = self.delta < 0 if self.higher_is_better else self.delta > 0
        return "worse" if worse else "better"

    @property
    def arrow(self) -> str:
        """The metric's good direction, for tables."""
        return "↑" if self.higher_is_better else "↓"


@dataclass
class SystemCoverage:
    system: str
    only_base: list[str] = field(default_factory=list)  # example ids with a base sample only
    only_new: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    base: ScoreSet
    new: ScoreSet
    settings: CompareSettings
    rows: list[Row]
    changes: list[Change]
    coverage: list[SystemCoverage]
    systems_only_base: list[str]
    systems_only_new: list[str]
    metrics_only_base: list[tuple[str, str]]
    metrics_only_new: list[tuple[str, str]]

    def row(self, system: str, metric: str) -> Row | None:
        return next((r for r in self.rows if r.system == system and r.metric == metric), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": _side(self.base),
            "new": _side(self.new),
            "settings": asdict(self.settings),
            "changes": [asdict(c) for c in self.changes],
            "rows": [asdict(r) | {"verdict": r.verdict(self.settings.alpha)} for r in self.rows],
            "coverage": [asdict(c) for c in self.coverage],
            "systems_only_base": self.systems_only_base,
            "systems_only_new": self.systems_only_new,
            "metrics_only_base": [list(m) for m in self.metrics_only_base],
            "metrics_only_new": [list(m) for m in self.metrics_only_new],
        }


def compare(base: ScoreSet, new: ScoreSet, settings: CompareSettings | None = None) -> Comparison:
    import numpy as np

    from harness.stats.paired import holm, paired_test, stable_seed

    settings = settings or CompareSettings()
    changes = detect(base, new)
    changed_systems = {c.name for c in changes if c.what == "system"}
    edited = edited_examples(base, new)
    rows: list[Row] = []
    coverage: list[SystemCoverage] = []
    only_base_m: list[tuple[str, str]] = []
    only_new_m: list[tuple[str, str]] = []
    common = [s for s in base.systems if s in new.systems]
    for system in common:
        seen_b, seen_n = set(base.seen.get(system, [])), set(new.seen.get(system, []))
        coverage.append(
            SystemCoverage(
                system,
                sorted(seen_b - seen_n),
                sorted(seen_n - seen_b),
                sorted(edited & seen_b & seen_n),
            )
        )
        metrics_b, metrics_n = base.metrics(system), new.metrics(system)
        only_base_m += [(system, m) for m in metrics_b if m not in metrics_n]
        only_new_m += [(system, m) for m in metrics_n if m not in metrics_b]
        for metric in [m for m in metrics_b if m in metrics_n]:
            vb, vn = base.values(system, metric), new.values(system, metric)
            cb, cn = base.counts(system, metric), new.counts(system, metric)
            if not vb and not vn and not cb["error"] and not cn["error"]:
                continue  # undefined everywhere (a retrieval metric on a system without retrieval)
            ids = sorted(i for i in vb if i in vn and i not in edited)  # the CI must not depend on file order
            up = new.higher_is_better(metric)
            test = paired_test(
                np.array([vb[i] for i in ids]),
                np.array([vn[i] for i in ids]),
                permutations=settings.permutations,
                bootstrap_samples=settings.bootstrap_samples,
                confidence=settings.confidence,
                seed=stable_seed(settings.seed, system, metric),
            )
            rows.append(
                Row(
                    system=system,
                    metric=metric,
                    higher_is_better=up,
                    base_mean=base.mean(system, metric),
                    new_mean=new.mean(system, metric),
                    n_base=len(vb),
                    n_new=len(vn),
                    n_paired=test.n,
                    delta=test.delta,
                    ci_low=test.ci_low,
                    ci_high=test.ci_high,
                    p_value=test.p_value,
                    p_worse=test.p_less if up else test.p_greater,
                    exact=test.exact,
                    n_error_base=cb["error"],
                    n_error_new=cn["error"],
                    config_changed=system in changed_systems,
                    diff_sd=float(np.std(np.array([vn[i] - vb[i] for i in ids]), ddof=1)) if len(ids) > 1 else None,
                )
            )
    for row, adjusted in zip(rows, holm([r.p_value for r in rows])):
        row.p_holm = adjusted
    return Comparison(
        base=base,
        new=new,
        settings=settings,
        rows=rows,
        changes=changes,
        coverage=coverage,
        systems_only_base=[s for s in base.systems if s not in new.systems],
        systems_only_new=[s for s in new.systems if s not in base.systems],
        metrics_only_base=only_base_m,
        metrics_only_new=only_new_m,
    )


def _side(scores: ScoreSet) -> dict[str, Any]:
    return {
        "source": scores.source,
        "kind": scores.kind,
        "run_id": scores.run_id,
        "status": scores.status,
        "suite": scores.suite,
        "git": scores.git,
        "created_at": scores.created_at,
    }
