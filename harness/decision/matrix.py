"""Knowledge vs behaviour: which approach wins on facts and which on format, and the rules of
thumb ("RAG for knowledge, fine-tuning for behaviour, the hybrid for both") checked against it.

Knowledge is the correctness metric (on every example, and on the tags of fact questions);
behaviour is the format metric (on every example) and the correctness metric on the tags of
format/style questions. Tags are read as fact-type or format-type from `decision.knowledge_tags`
/ `behaviour_tags`, else by name (fact, knowledge / format, style, tone, behaviour).
"""

from __future__ import annotations

from harness.decision.effects import MIN_PAIRED, num, paired_ids, verdict
from harness.decision.facts import RunFacts
from harness.decision.model import Effect, MatrixCell, MatrixRow, RuleCheck
from harness.stats.power import power_of
from harness.stats.bootstrap import bootstrap_ci
from harness.stats.paired import stable_seed

APPROACHES = ["base", "few_shot", "rag", "finetuned", "hybrid"]
LABELS = {"base": "base", "few_shot": "few-shot", "rag": "RAG", "finetuned": "fine-tuned", "hybrid": "hybrid"}
KNOWLEDGE_WORDS = ("fact", "knowledge")
BEHAVIOUR_WORDS = ("format", "style", "tone", "behav")


def split_tags(facts: RunFacts) -> tuple[list[str], list[str]]:
    config = facts.decision
    tags = facts.tags()
    knowledge = config.knowledge_tags if config.knowledge_tags is not None else \
        [t for t in tags if any(w in t.lower() for w in KNOWLEDGE_WORDS)]
    behaviour = config.behaviour_tags if config.behaviour_tags is not None else \
        [t for t in tags if any(w in t.lower() for w in BEHAVIOUR_WORDS)]
    return [t for t in knowledge if t in tags], [t for t in behaviour if t in tags]


def lead(facts: RunFacts, metric: str, a: str, b: str, ids: list[str] | None, key: str) -> Effect:
    """Paired a − b on `metric` (systems a and b), over `ids` (all examples when None)."""
    info = facts.info(metric)
    pairs = paired_ids(facts, [a, b], metric, ids)
    va, vb = facts.values(a, metric), facts.values(b, metric)
    diffs = [va[i] - vb[i] for i in pairs]
    settings = facts.header.settings
    effect = Effect(key=key, label=f"{a} − {b}", formula=f"{a} − {b}", systems={"a": a, "b": b}, metric=metric,
                    higher_is_better=info.higher_is_better, n=len(pairs))
    if diffs:
        effect.delta = sum(diffs) / len(diffs)
        effect.ci_low, effect.ci_high = bootstrap_ci(diffs, samples=settings.bootstrap_samples,
                                                     confidence=settings.confidence,
                                                     seed=stable_seed(settings.seed, key, metric, a, b))
        effect.power = power_of(diffs)
    effect.verdict = verdict(effect.n, effect.ci_low, effect.ci_high, info.higher_is_better)
    ci = f"CI [{num(effect.ci_low, info.unit, True)}, {num(effect.ci_high, info.unit, True)}]"
    effect.text = f"{num(effect.delta, info.unit, True)} ({ci}, n={effect.n})"
    return effect


def matrix_row(facts: RunFacts, roles: dict[str, str], aspect: str, metric: str, tag: str | None) -> MatrixRow | None:
    ids = facts.ids_with_tag(tag) if tag else None
    cells = {}
    for role in APPROACHES:
        if role in roles:
            values = facts.values(roles[role], metric, ids)
            cells[role] = MatrixCell(system=roles[role], mean=sum(values.values()) / len(values) if values else None,
                                     n=len(values))
    scored = {r: c.mean for r, c in cells.items() if c.mean is not None}
    if len(scored) < 2:
        return None
    up = facts.info(metric).higher_is_better
    ranked = sorted(scored, key=lambda r: scored[r], reverse=up)
    winner, runner_up = ranked[0], ranked[1]
    where = f"{metric}" + (f", tag {tag}" if tag else ", all examples")
    name = aspect.capitalize()
    unit = facts.info(metric).unit
    tied = [r for r in ranked if scored[r] == scored[winner]]
    if len(tied) > 1:
        text = (f"{name} ({where}): {', '.join(LABELS[r] for r in tied)} tie at {num(scored[winner], unit)}; "
                "no approach wins.")
        return MatrixRow(aspect=aspect, metric=metric, tag=tag, cells=cells, winner=None, runner_up=None,  # type: ignore[arg-type]
                         lead=None, text=text, tied=tied)
    margin = lead(facts, metric, roles[winner], roles[runner_up], ids, f"matrix-{aspect}")
    if margin.verdict == "better":
        judged = f"a detectable lead of {margin.text}"
    elif margin.verdict == "worse":  # the means cover different examples (errors, undefined scores)
        judged = (f"a lead of the means only: on the {margin.n} examples both scored ok, {LABELS[winner]} is "
                  f"detectably behind {LABELS[runner_up]} ({margin.text})")
    elif margin.verdict == "too_few":
        judged = f"too few paired examples to call the lead ({margin.text})"
    else:
        judged = f"a lead the CI does not support ({margin.text})"
    text = (f"{name} ({where}): {LABELS[winner]} is best with {num(scored[winner], facts.info(metric).unit)}, "
            f"ahead of {LABELS[runner_up]} ({num(scored[runner_up], facts.info(metric).unit)}) by {judged}.")
    return MatrixRow(aspect=aspect, metric=metric, tag=tag, cells=cells, winner=winner, runner_up=runner_up,  # type: ignore[arg-type]
                     lead=margin, text=text)


def knowledge_behaviour(facts: RunFacts, roles: dict[str, str], correctness: str | None, fmt: str | None) -> list[MatrixRow]:
    knowledge_tags, behaviour_tags = split_tags(facts)
    plan: list[tuple[str, str, str | None]] = []
    if correctness:
        plan.append(("knowledge", correctness, None))
        plan += [("knowledge", correctness, t) for t in knowledge_tags]
    if fmt:
        plan.append(("behaviour", fmt, None))
    if correctness:
        plan += [("behaviour", correctness, t) for t in behaviour_tags]
    rows = [matrix_row(facts, roles, aspect, metric, tag) for aspect, metric, tag in plan]
    return [r for r in rows if r is not None]


def rules_of_thumb(facts: RunFacts, roles: dict[str, str], correctness: str | None, fmt: str | None) -> list[RuleCheck]:
    checks = []

    def versus(rule: str, metric: str | None, a: str, b: str, claim: str) -> None:
        if metric is None or a not in roles or b not in roles:
            missing = "no such metric" if metric is None else f"needs both {LABELS[a]} and {LABELS[b]}"
            checks.append(RuleCheck(rule=rule, status="not_measured", text=f"{rule}: not measured ({missing})."))
            return
        effect = lead(facts, metric, roles[a], roles[b], None, f"rule-{a}-{b}")
        status = {"better": "confirmed", "worse": "refuted"}.get(effect.verdict, "not_settled")
        if effect.verdict == "too_few":
            status = "not_settled"
        said = {"confirmed": "confirmed", "refuted": "refuted", "not_settled": "not settled"}[status]
        checks.append(RuleCheck(rule=rule, status=status,  # type: ignore[arg-type]
                                text=f"{rule}: {said} on this data: {LABELS[a]} − {LABELS[b]} on {metric} {claim} "
                                     f"{effect.text}."))

    versus("RAG brings the facts", correctness, "rag", "finetuned", "is")
    versus("Fine-tuning brings the format", fmt, "finetuned", "rag", "is")
    checks.append(_hybrid_rule(facts, roles, correctness, fmt))
    return checks


def _hybrid_rule(facts: RunFacts, roles: dict[str, str], correctness: str | None, fmt: str | None) -> RuleCheck:
    rule = "The hybrid gets both"
    if not all(r in roles for r in ("hybrid", "rag", "finetuned")) or correctness is None or fmt is None:
        return RuleCheck(rule=rule, status="not_measured",
                         text=f"{rule}: not measured (needs hybrid, RAG and fine-tuned systems, a correctness and a format metric).")
    facts_side = lead(facts, correctness, roles["hybrid"], roles["rag"], None, "rule-hybrid-facts")
    format_side = lead(facts, fmt, roles["hybrid"], roles["finetuned"], None, "rule-hybrid-format")
    sides = [facts_side, format_side]
    if any(s.n < MIN_PAIRED for s in sides):
        status = "not_settled"
    elif any(s.verdict == "worse" for s in sides):
        status = "refuted"
    else:
        status = "confirmed"
    said = {"confirmed": "confirmed (no detectable loss on either side)", "refuted": "refuted",
            "not_settled": "not settled"}[status]
    text = (f"{rule}: {said}: hybrid − RAG on {correctness} is {facts_side.text}; "
            f"hybrid − fine-tuned on {fmt} is {format_side.text}.")
    return RuleCheck(rule=rule, status=status, text=text)  # type: ignore[arg-type]
