"""The recommendation: explicit rules over the numbers, no model call.

1. Candidates are the role systems except the oracle (or `decision.candidates`).
2. Must-haves (`decision.must`) filter them, judged on the mean (latency_p50/p95 and
   cost_per_1k on the cost table); a mean that passes while its CI reaches past the threshold is
   a caveat, not a failure.
3. The rest are ranked by the weighted goal score: sum of weight x mean per metric (negated for
   lower-is-better metrics); default weights: correctness 1, format 1.
4. Every candidate whose paired difference in per-example goal score from the top one has a CI
   reaching 0 (or too few pairs) is tied with it: the data cannot tell them apart.
5. Among the tied, the simplest approach wins (base, few-shot, RAG, fine-tuned, hybrid, then
   others), then the cheaper per query. A lead is only stated when its CI excludes 0.
"""

from __future__ import annotations

from harness.stats.paired import stable_seed
from harness.decision.effects import MIN_PAIRED, num, verdict
from harness.decision.facts import RunFacts
from harness.decision.model import Costs, Effect, Freshness, Recommendation, Requirement
from harness.stats.bootstrap import bootstrap_ci
from harness.suite.decision import DERIVED

SIMPLICITY = ["base", "few_shot", "rag", "finetuned", "hybrid"]
LABELS = {"base": "the base prompt", "few_shot": "few-shot prompting", "rag": "retrieval, RAG",
          "finetuned": "the fine-tuned model", "hybrid": "the fine-tuned model with retrieval", "oracle": "oracle"}
FINE_TUNING_USUALLY_NEEDS = 1000


def goal_weights(facts: RunFacts, correctness: str | None, fmt: str | None, notes: list[str]) -> dict[str, float]:
    declared = facts.decision.weights
    if declared:
        unknown = [m for m in declared if m not in facts.metrics]
        notes += [f"decision.weights.{m}: no such metric in this run; ignored" for m in unknown]
        return {m: w for m, w in declared.items() if m in facts.metrics}
    return {m: 1.0 for m in (correctness, fmt) if m is not None}


def per_example_goal(facts: RunFacts, system: str, weights: dict[str, float]) -> dict[str, float]:
    tables = {m: facts.values(system, m) for m in weights}
    ids = [i for i in facts.examples if all(i in t for t in tables.values())]
    sign = {m: 1.0 if facts.info(m).higher_is_better else -1.0 for m in weights}
    return {i: sum(w * sign[m] * tables[m][i] for m, w in weights.items()) for i in ids}


def goal_score(facts: RunFacts, system: str, weights: dict[str, float]) -> float | None:
    total = 0.0
    for metric, weight in weights.items():
        mean = facts.mean(system, metric)
        if mean is None:
            return None
        total += weight * (mean if facts.info(metric).higher_is_better else -mean)
    return total


def observed(facts: RunFacts, costs: Costs, system: str, metric: str) -> tuple[float | None, list[float]]:
    """(value the must-have is judged on, the ok values behind it: [] for derived numbers)."""
    if metric in DERIVED:
        cost = next((c for c in costs.systems if c.system == system), None)
        if cost is None:
            return None, []
        return {"latency_p50": cost.total.p50, "latency_p95": cost.total.p95, "cost_per_1k": cost.usd_per_1k}[metric], []
    values = list(facts.values(system, metric).values())
    return (sum(values) / len(values) if values else None), values


def check_requirements(facts: RunFacts, costs: Costs, system: str) -> list[Requirement]:
    found = []
    settings = facts.header.settings
    for rule in facts.decision.must:
        if rule.metric not in DERIVED and rule.metric not in facts.metrics:
            found.append(Requirement(label=rule.label(), system=system, observed=None, met=None,
                                     note=f"no metric {rule.metric!r} in this run"))
            continue
        value, values = observed(facts, costs, system, rule.metric)
        if value is None:
            found.append(Requirement(label=rule.label(), system=system, observed=None, met=None, note="not measured"))
            continue
        note = ""
        met = rule.holds(value)
        if values and met:
            low, high = bootstrap_ci(values, samples=settings.bootstrap_samples, confidence=settings.confidence,
                                     seed=stable_seed(settings.seed, "must", system, rule.metric))
            edge = low if rule.wants_high else high
            if edge is not None and not rule.holds(edge):
                note = f"met on the mean, but its {settings.confidence:.0%} CI [{num(low)}, {num(high)}] reaches past {rule.value:g}"
        found.append(Requirement(label=rule.label(), system=system, observed=value, met=met, note=note))
    return found


def goal_gap(facts: RunFacts, top: str, other: str, weights: dict[str, float]) -> Effect:
    a, b = per_example_goal(facts, top, weights), per_example_goal(facts, other, weights)
    ids = [i for i in a if i in b]
    diffs = [a[i] - b[i] for i in ids]
    settings = facts.header.settings
    effect = Effect(key="goal", label=f"{top} − {other}", formula=f"{top} − {other}", systems={"a": top, "b": other},
                    metric="goal score", n=len(ids))
    if diffs:
        effect.delta = sum(diffs) / len(diffs)
        effect.ci_low, effect.ci_high = bootstrap_ci(diffs, samples=settings.bootstrap_samples,
                                                     confidence=settings.confidence,
                                                     seed=stable_seed(settings.seed, "goal", top, other))
    effect.verdict = verdict(effect.n, effect.ci_low, effect.ci_high)
    effect.text = (f"{num(effect.delta, None, True)} ({settings.confidence:.0%} CI [{num(effect.ci_low, None, True)}, "
                   f"{num(effect.ci_high, None, True)}], n={effect.n})")
    return effect


def recommend(facts: RunFacts, roles: dict[str, str], correctness: str | None, fmt: str | None, costs: Costs,
              evidence: list[Effect], freshness: Freshness | None, caveats: list[str]) -> Recommendation:
    role_of = {s: r for r, s in roles.items()}
    notes: list[str] = []
    weights = goal_weights(facts, correctness, fmt, notes)
    candidates = facts.decision.candidates or [roles[r] for r in SIMPLICITY if r in roles]
    absent = [c for c in candidates if c not in facts.outcomes]
    notes += [f"decision.candidates: no system named {c!r} in this run" if facts.decision.candidates
              else f"{c}: no sample in this run, so it is not compared" for c in absent]
    candidates = [c for c in candidates if c in facts.outcomes]
    result = Recommendation(system=None, role=None, text="", weights=weights, caveats=list(caveats) + notes,
                            evidence=[f"{e.label} ({e.formula}) on {e.metric}: {e.text}" for e in evidence])
    if not candidates:
        result.text = "No recommendation: the run has no candidate approach (no prompt, few-shot, RAG, fine-tuned or hybrid system)."
        return result
    if not weights:
        result.text = "No recommendation: no goal metric (no correctness or format metric, and no decision.weights)."
        return result
    scores = {c: s for c in candidates if (s := goal_score(facts, c, weights)) is not None}
    result.scores = scores
    unscored = [c for c in candidates if c not in scores]
    if not scores:
        result.text = (f"No recommendation: no candidate has an ok score on every goal metric ({', '.join(weights)}); "
                       "see the undefined and error counts in the caveats.")
        return result
    checks = {c: check_requirements(facts, costs, c) for c in candidates}
    result.requirements = [r for c in candidates for r in checks[c]]
    eligible = [c for c in scores if all(r.met for r in checks[c])]
    goals = ", ".join(f"{m} x{w:g}" for m, w in weights.items())
    if not eligible:
        failing = sorted(scores, key=lambda c: (sum(not r.met for r in checks[c]), -scores[c]))
        closest = failing[0] if failing else candidates[0]
        missed = "; ".join(f"{r.label} ({'not measured' if r.observed is None else num(r.observed)})"
                           for r in checks.get(closest, []) if not r.met)
        result.text = (f"No candidate meets every must-have. The closest is {closest}, which misses: {missed or 'a goal metric'}.")
        return result
    top = max(eligible, key=lambda c: scores[c])
    gaps = {c: goal_gap(facts, top, c, weights) for c in eligible if c != top}
    tied = [top] + [c for c, g in gaps.items() if g.verdict != "better" or g.n < MIN_PAIRED]
    cost_of = {c.system: c.usd_per_query for c in costs.systems}
    rank = {c: SIMPLICITY.index(role_of[c]) if role_of.get(c) in SIMPLICITY else len(SIMPLICITY) for c in tied}
    pick = min(tied, key=lambda c: (rank[c], cost_of.get(c) if cost_of.get(c) is not None else float("inf"), -scores[c]))
    result.system, result.role = pick, role_of.get(pick)
    result.text = _paragraph(facts, pick, top, tied, gaps, scores, goals, checks[pick], role_of)
    excluded = [c for c in scores if c not in eligible]
    if excluded:
        result.text += " Excluded by the must-haves: " + "; ".join(
            f"{c} ({', '.join(f'{r.label}: ' + ('not measured' if r.observed is None else num(r.observed)) for r in checks[c] if not r.met)})"
            for c in excluded) + "."
    if unscored:
        result.text += f" Not ranked (no ok score on every goal metric): {', '.join(unscored)}."
    result.caveats += _freshness_caveat(freshness, pick)
    return result


def _paragraph(facts: RunFacts, pick: str, top: str, tied: list[str], gaps: dict[str, Effect], scores: dict[str, float],
               goals: str, requirements: list[Requirement], role_of: dict[str, str]) -> str:
    label = LABELS.get(role_of.get(pick, ""), facts.kind(pick))
    parts = [f"Pick {pick} ({label}). Goals: {goals}; goal score {num(scores[pick])}."]
    if pick != top:
        gap = gaps[pick]
        why = (f"there are too few paired examples to tell them apart (n={gap.n})" if gap.n < MIN_PAIRED
               else _reversed(top, pick, gap) if gap.verdict == "worse"
               else f"the difference is not detectable ({top} − {pick} {gap.text})")
        parts.append(f"{top} scores higher ({num(scores[top])}) but {why}, and {pick} is the simpler approach.")
    ahead = [c for c, g in gaps.items() if c not in tied]
    if ahead:
        parts.append(f"{top} is ahead of " + "; ".join(f"{c} ({num(scores[c])}) by {gaps[c].text}" for c in ahead) + ".")
    others = [c for c in tied if c not in (pick, top) and gaps[c].verdict != "worse"]
    parts += [f"{top}'s mean is higher than {c}'s ({num(scores[c])}), but {_reversed(top, c, gaps[c])}."
              for c in tied if c not in (pick, top) and gaps[c].verdict == "worse"]
    if others:
        parts.append(f"Not detectably different from {top}: " + "; ".join(
            f"{c} ({num(scores[c])}; {top} − {c} {gaps[c].text})" for c in others) + ".")
    if requirements:
        met = ", ".join(f"{r.label} ({num(r.observed)})" for r in requirements)
        parts.append(f"It meets every must-have: {met}.")
        parts += [f"Note: {r.label}: {r.note}." for r in requirements if r.note]
    return " ".join(parts)


def _reversed(top: str, other: str, gap: Effect) -> str:
    """A higher mean that the paired CI reverses: the means cover different examples."""
    return (f"on the {gap.n} examples both scored ok, {top} is detectably behind {other} ({top} − {other} {gap.text}; "
            "the means cover different examples: errors or undefined scores)")


def _freshness_caveat(freshness: Freshness | None, pick: str) -> list[str]:
    if freshness is None:
        return []
    row = next((r for r in freshness.rows if r.system == pick), None)
    if row is None or row.loss is None:
        return []
    if row.loss.verdict == "worse" or row.stale:
        return [f"when facts change: {row.text}"]
    return []


def standard_caveats(facts: RunFacts, roles: dict[str, str], weights: list[str], power_text: str | None) -> list[str]:
    """Caveats that hold whatever is picked: sample size, undefined scores, judge, leakage, train size."""
    header = facts.header
    caveats = []
    n = len(facts.examples)
    caveats.append(f"n={n} test examples" + (f" ({power_text})" if power_text else ""))
    for metric in weights:
        for role, system in roles.items():
            if role == "oracle":
                continue
            status = [o.status.get(metric) for o in facts.outcomes.get(system, {}).values()]
            undefined, errors = status.count("undefined"), status.count("error")
            if undefined or errors:
                caveats.append(f"{system}: {metric} undefined for {undefined} and an error for {errors} of {len(status)} answers")
    if any(facts.info(m).group == "faithfulness" for m in facts.metrics):
        judge = header.judge.model or "the offline judge (no model)"
        caveats.append(f"faithfulness is scored by {judge}; its agreement with human labels is not measured in this run")
    caveats += [f"run degraded: {d}" for d in header.degraded]
    leaked = int((header.leakage or {}).get("count") or 0)
    if leaked:
        caveats.append(f"{leaked} test example(s) also appear in the train split: fine-tuned and few-shot scores on "
                       "them are inflated (run with --exclude-leaked)")
    trained = [s for r, s in roles.items() if r in ("finetuned", "hybrid")]
    n_train = header.dataset.n_train
    if trained and n_train is not None and n_train < FINE_TUNING_USUALLY_NEEDS:
        caveats.append(f"the LoRA(s) of {', '.join(trained)} learned from {n_train} train examples; fine-tuning "
                       f"usually needs over {FINE_TUNING_USUALLY_NEEDS:,}, so these numbers are a floor for what "
                       "fine-tuning can do here")
    if header.status != "complete":
        caveats.append(f"the run is {header.status}: numbers cover the finished samples only")
    return caveats
