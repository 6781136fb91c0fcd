"""Effects of retrieval, fine-tuning, combining them and few-shot: paired differences with CIs.

Each effect is a per-example combination of systems' scores over the examples every system
involved scored `ok` (pairing removes the between-example variance), its mean, and a percentile
bootstrap CI (the harness's one bootstrap). Words follow the CI and nothing else: an interval
that contains 0 is "no detectable difference" whatever the point estimate, and fewer than
MIN_PAIRED examples are "too few to tell" (a bootstrap of a handful of values is not an interval).
CIs are per comparison, not adjusted for how many are shown.
"""

from __future__ import annotations

from harness.stats.paired import stable_seed
from harness.decision.facts import RunFacts
from harness.decision.model import Effect, Verdict
from harness.stats.power import power_of
from harness.stats.bootstrap import bootstrap_ci

MIN_PAIRED = 10

# key -> (label, formula, coefficients by role); "combining" picks its single partner per metric.
EFFECTS: dict[str, tuple[str, str, dict[str, int]]] = {
    "retrieval": ("retrieval", "rag − base", {"rag": 1, "base": -1}),
    "fine_tuning": ("fine-tuning", "fine-tuned − base", {"finetuned": 1, "base": -1}),
    "combining": ("combining", "hybrid − better single", {"hybrid": 1}),
    "interaction": ("interaction", "hybrid − rag − fine-tuned + base", {"hybrid": 1, "rag": -1, "finetuned": -1, "base": 1}),
    "few_shot": ("few-shot", "few-shot − base", {"few_shot": 1, "base": -1}),
    "retrieval_headroom": ("perfect retrieval", "oracle − rag", {"oracle": 1, "rag": -1}),
}
MAIN = ["retrieval", "fine_tuning", "combining", "few_shot"]


def num(value: float | None, unit: str | None = None, signed: bool = False) -> str:
    """Three decimals for unitless scores, three significant digits (and the unit) otherwise."""
    if value is None:
        return "n/a"
    sign = "+" if signed else ""
    if unit is None and abs(value) <= 1.0:
        text = f"{value:{sign}.3f}"
    else:
        text = f"{value:{sign}.3g}" + (f" {unit}" if unit else "")
    return text.replace("-", "−")


def paired_ids(facts: RunFacts, systems: list[str], metric: str, ids: list[str] | None = None) -> list[str]:
    pool = list(facts.examples) if ids is None else ids
    values = [facts.values(s, metric) for s in systems]
    return [i for i in pool if all(i in v for v in values)]


def compute(facts: RunFacts, key: str, roles: dict[str, str], metric: str, tag: str | None = None) -> Effect | None:
    """One effect on one metric (and tag); None when a role it needs is missing."""
    label, formula, coefficients = EFFECTS[key]
    coefficients = dict(coefficients)
    if key == "combining":
        partner = better_single(facts, roles, metric, tag)
        if partner is None:
            return None
        coefficients[partner] = -1
        formula = f"hybrid − {'RAG' if partner == 'rag' else 'fine-tuned'} (the better single approach here)"
    if any(role not in roles for role in coefficients):
        return None
    systems = {role: roles[role] for role in coefficients}
    scope = facts.ids_with_tag(tag) if tag else list(facts.examples)
    ids = paired_ids(facts, list(systems.values()), metric, scope)
    info = facts.info(metric)
    effect = Effect(key=key, label=label, formula=formula, systems=systems, metric=metric, tag=tag,
                    higher_is_better=info.higher_is_better, n=len(ids), n_dropped=len(scope) - len(ids))
    if not ids:
        effect.text = "not measured: no example was scored ok by every system involved"
        return effect
    tables = {role: facts.values(system, metric) for role, system in systems.items()}
    diffs = [sum(c * tables[role][i] for role, c in coefficients.items()) for i in ids]
    settings = facts.header.settings
    effect.delta = sum(diffs) / len(diffs)
    effect.ci_low, effect.ci_high = bootstrap_ci(
        diffs, samples=settings.bootstrap_samples, confidence=settings.confidence,
        seed=stable_seed(settings.seed, key, metric, tag or ""),
    )
    effect.verdict = verdict(effect.n, effect.ci_low, effect.ci_high, info.higher_is_better)
    effect.power = power_of(diffs)
    effect.text = describe(effect, settings.confidence, info.unit)
    return effect


def better_single(facts: RunFacts, roles: dict[str, str], metric: str, tag: str | None = None) -> str | None:
    """'rag' or 'finetuned', whichever scores better on the examples all three scored."""
    if not all(r in roles for r in ("hybrid", "rag", "finetuned")):
        return None
    scope = facts.ids_with_tag(tag) if tag else None
    ids = paired_ids(facts, [roles["hybrid"], roles["rag"], roles["finetuned"]], metric, scope)
    if not ids:
        return "rag"
    rag, finetuned = (facts.mean(roles[r], metric, ids) or 0.0 for r in ("rag", "finetuned"))
    up = facts.info(metric).higher_is_better
    return "finetuned" if (finetuned > rag if up else finetuned < rag) else "rag"


def verdict(n: int, low: float | None, high: float | None, higher_is_better: bool = True) -> Verdict:
    """What the CI allows: better/worse only when the whole interval is on one side of 0."""
    if n == 0 or low is None or high is None:
        return "not_measured"
    if n < MIN_PAIRED:
        return "too_few"
    if low > 0:
        return "better" if higher_is_better else "worse"
    if high < 0:
        return "worse" if higher_is_better else "better"
    return "no_difference"


def describe(effect: Effect, confidence: float, unit: str | None = None) -> str:
    n, delta = effect.n, effect.delta
    ci = f"{confidence:.0%} CI [{num(effect.ci_low, unit, True)}, {num(effect.ci_high, unit, True)}]"
    stats = f"n={n}, Δ {num(delta, unit, True)}, {ci}"
    if effect.verdict == "not_measured":
        return "not measured: no example was scored ok by every system involved"
    if effect.verdict == "too_few":
        return f"too few paired examples to tell (n={n}, Δ {num(delta, unit, True)})"
    if effect.verdict == "no_difference":
        if effect.key == "interaction":
            return f"no detectable interaction: the two effects add up ({stats})"
        return f"no detectable difference ({stats})"
    if effect.key == "interaction":
        if effect.verdict == "better":
            return f"synergy: together they add more than the sum of the two effects ({stats})"
        return f"overlap: together they add less than the sum of the two effects ({stats})"
    size = abs(delta or 0.0)
    word = "higher" if (delta or 0) > 0 else "lower"
    return f"{effect.verdict} by {num(size, unit)} ({word}; {stats})"


def all_effects(facts: RunFacts, roles: dict[str, str], metrics: list[str], keep_unmeasured: set[str]) -> list[Effect]:
    """Every effect on every metric; rows with no paired example only for `keep_unmeasured` metrics."""
    found = []
    for metric in metrics:
        for key in EFFECTS:
            effect = compute(facts, key, roles, metric)
            if effect is not None and (effect.n or metric in keep_unmeasured):
                found.append(effect)
    return found


def tag_effects(facts: RunFacts, roles: dict[str, str], metrics: list[str]) -> list[Effect]:
    found = []
    for tag in facts.tags():
        for metric in metrics:
            for key in EFFECTS:
                effect = compute(facts, key, roles, metric, tag)
                if effect is not None and effect.n:
                    found.append(effect)
    return found
