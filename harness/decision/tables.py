"""The Decision as pandas DataFrames, for notebooks (`harness.load_run(path).decision()`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.decision.model import Decision, Effect


def _effect_row(effect: Effect) -> dict[str, Any]:
    power = effect.power
    return {
        "effect": effect.key, "formula": effect.formula, "metric": effect.metric, "tag": effect.tag,
        "n": effect.n, "n_dropped": effect.n_dropped, "delta": effect.delta, "ci_low": effect.ci_low,
        "ci_high": effect.ci_high, "verdict": effect.verdict, "text": effect.text,
        "mde": power.mde if power else None, "n_for_0.05": power.n_for_target if power else None,
        **{f"system_{role}": system for role, system in effect.systems.items()},
    }


@dataclass
class DecisionTables:
    """Each part of the analysis as a DataFrame; `decision` is the typed record behind them."""

    decision: Decision
    recommendation: str
    roles: pd.DataFrame
    effects: pd.DataFrame
    attribution: pd.DataFrame
    bucket_ids: pd.DataFrame
    matrix: pd.DataFrame
    rules: pd.DataFrame
    costs: pd.DataFrame
    break_even: pd.DataFrame
    freshness: pd.DataFrame
    power: pd.DataFrame

    def _repr_html_(self) -> str:
        import html

        return (f"<p><b>Recommendation.</b> {html.escape(self.recommendation)}</p>"
                + self.roles.to_html(index=False, na_rep="—"))


def decision_tables(decision: Decision) -> DecisionTables:
    roles = pd.DataFrame([r.model_dump() for r in decision.roles.details], columns=["role", "system", "how"])
    effects = pd.DataFrame([_effect_row(e) for e in decision.effects + decision.tag_effects])
    attribution = pd.DataFrame([
        {"system": a.system, "role": a.role, "scheme": a.scheme, "bucket": b.key, "label": b.label, "count": b.count,
         "share": b.count / a.n if a.n else None, "oracle_right": b.oracle_right}
        for a in decision.attribution for b in a.buckets
    ], columns=["system", "role", "scheme", "bucket", "label", "count", "share", "oracle_right"])
    bucket_ids = pd.DataFrame([
        {"system": a.system, "bucket": b.key, "example_id": i} for a in decision.attribution for b in a.buckets for i in b.ids
    ], columns=["system", "bucket", "example_id"])
    matrix = pd.DataFrame([
        {"aspect": row.aspect, "metric": row.metric, "tag": row.tag, "winner": row.winner, "runner_up": row.runner_up,
         "lead": row.lead.delta if row.lead else None, "ci_low": row.lead.ci_low if row.lead else None,
         "ci_high": row.lead.ci_high if row.lead else None, "verdict": row.lead.verdict if row.lead else None,
         **{role: cell.mean for role, cell in row.cells.items()}, "text": row.text}
        for row in decision.matrix
    ])
    rules = pd.DataFrame([r.model_dump() for r in decision.rules], columns=["rule", "status", "text"])
    costs = pd.DataFrame([
        {"system": c.system, "role": c.role, "latency_p50_s": c.total.p50, "latency_p95_s": c.total.p95,
         "retrieval_p50_s": c.retrieval.p50 if c.retrieval else None, "retrieval_p95_s": c.retrieval.p95 if c.retrieval else None,
         "generation_p50_s": c.generation.p50 if c.generation else None,
         "generation_p95_s": c.generation.p95 if c.generation else None, "tokens_in": c.tokens_in,
         "tokens_out": c.tokens_out, "usd_per_1k": c.usd_per_1k, "price_source": c.price_source,
         "training_s": c.training_s, "index_build_s": c.index_build_s, "one_off_usd": c.one_off_usd}
        for c in decision.costs.systems
    ])
    break_even = pd.DataFrame([b.model_dump() for b in decision.costs.break_even],
                              columns=["cheaper", "other", "queries_per_month", "horizon_months", "text"])
    fresh_rows = decision.freshness.rows if decision.freshness else []
    freshness = pd.DataFrame([
        {"system": r.system, "variant": r.variant, "reindexed": r.reindexed, "metric": r.metric, "n_changed": r.n_changed,
         "before": r.before, "after": r.after, "delta": r.loss.delta if r.loss else None,
         "ci_low": r.loss.ci_low if r.loss else None, "ci_high": r.loss.ci_high if r.loss else None,
         "stale": r.stale, "text": r.text}
        for r in fresh_rows
    ])
    power = pd.DataFrame([_effect_row(e) | {"sd": e.power.sd if e.power else None} for e in decision.power])
    return DecisionTables(decision, decision.recommendation.text, roles, effects, attribution, bucket_ids, matrix,
                          rules, costs, break_even, freshness, power)
