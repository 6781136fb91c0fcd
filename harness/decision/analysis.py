"""`analyse(view) -> Decision`: the whole decision analysis of one run directory.

The one entry point the report, `harness decide`, the notebook API and the run viewer call.
Reads the run once (RunView), calls no model, and returns typed, JSON-serialisable records.
"""

from __future__ import annotations

from pathlib import Path

from harness.decision.attribution import Judge, attribute
from harness.decision.costs import costs as cost_table
from harness.decision.effects import EFFECTS, MAIN, all_effects, tag_effects
from harness.decision.facts import CORRECTNESS_ORDER, FORMAT_ORDER, RunFacts, read_facts
from harness.decision.freshness import freshness as freshness_of
from harness.decision.matrix import knowledge_behaviour, rules_of_thumb
from harness.decision.model import Decision, Effect
from harness.stats.power import describe as describe_power
from harness.decision.recommend import goal_weights, recommend, standard_caveats
from harness.decision.roles import infer_roles
from harness.run import RunView
from harness.suite.decision import CostConfig, DecisionConfig


def analyse(view: RunView | str | Path, *, decision: DecisionConfig | None = None,
            cost: CostConfig | None = None) -> Decision:
    """The decision analysis of a run; `decision`/`cost` override the sections run.json recorded."""
    if not isinstance(view, RunView):
        view = RunView.open(view)
    return analyse_facts(read_facts(view, decision, cost))


def analyse_facts(facts: RunFacts) -> Decision:
    config = facts.decision
    notes: list[str] = []
    roles = infer_roles(facts.header.systems | {s: {} for s in facts.systems if s not in facts.header.systems},
                        config.roles(), exclude=set(facts.variants))
    assigned = roles.assigned
    correctness = facts.metric_of("correctness", config.correctness, CORRECTNESS_ORDER)
    fmt = facts.metric_of("format", config.format, FORMAT_ORDER)
    for field, declared, found in (("correctness", config.correctness, correctness), ("format", config.format, fmt)):
        if declared is not None and found is None:
            notes.append(f"decision.{field}: no metric {declared!r} in this run (it has: {', '.join(facts.metrics)})")
    if correctness is None:
        notes.append("no correctness metric in this run: attribution and the recommendation's knowledge side are not measured")
    primary = [m for m in (correctness, fmt) if m is not None]
    quality = facts.quality_metrics()
    effects = all_effects(facts, assigned, quality, keep_unmeasured=set(primary))
    by_tag = tag_effects(facts, assigned, primary)
    power = [e for e in effects if e.metric == correctness and e.key in MAIN]
    judge = Judge(facts, correctness, fmt, config.correct_at)
    attribution = attribute(facts, judge, assigned, facts.main_systems)
    matrix = knowledge_behaviour(facts, assigned, correctness, fmt)
    rules = rules_of_thumb(facts, assigned, correctness, fmt)
    costs = cost_table(facts, assigned, facts.main_systems)
    fresh = freshness_of(facts, assigned, correctness)
    weights = goal_weights(facts, correctness, fmt, [])
    caveats = standard_caveats(facts, assigned, list(weights), _power_line(power)) + roles.notes
    evidence = [e for e in effects if e.metric in primary and e.key in ("retrieval", "fine_tuning", "combining", "few_shot")
                and e.n]
    recommendation = recommend(facts, assigned, correctness, fmt, costs, evidence, fresh, caveats)
    return Decision(
        run_id=facts.header.run_id, suite=facts.header.suite.name, correctness=correctness, format=fmt,
        confidence=facts.header.settings.confidence, roles=roles, recommendation=recommendation,
        effects=effects, tag_effects=by_tag, attribution=attribution, matrix=matrix, rules=rules, costs=costs,
        freshness=fresh, power=power, notes=notes,
    )


def _power_line(power: list[Effect]) -> str | None:
    main = next((e for e in power if e.power is not None and e.power.n >= 2), None)
    if main is None or main.power is None:
        return None
    return f"power of {EFFECTS[main.key][0]} ({main.formula}) on {main.metric}: {describe_power(main.power)}"
