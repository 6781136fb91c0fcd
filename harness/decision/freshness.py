"""Freshness: how much each approach loses when facts change.

The run's updated phase (see harness/engine/updates.py) re-ran each system as `<name>@updated` on the
changed examples with their new references, systems that read the corpus re-indexed on the new
version, LoRAs not retrained. Here the same examples are compared before (main phase: old facts,
old corpus) and after (new facts, new corpus), paired by example id, on the correctness metric.
A "stale" answer is one that, after the update, still contains the old reference and not the
new one: the fine-tuned model repeating what it was trained on is measured, not assumed.
"""

from __future__ import annotations

from harness.stats.paired import stable_seed
from harness.decision.effects import num, verdict
from harness.decision.facts import ExampleFacts, RunFacts
from harness.decision.model import Effect, Freshness, FreshnessRow
from harness.stats.power import power_of
from harness.metrics.basic import normalise_answer
from harness.stats.bootstrap import bootstrap_ci

LOW_BEFORE = 0.2  # below this share right before the update, a loss says little about staleness


def _reference(example: ExampleFacts | None) -> str | None:
    if not example:
        return None
    reference = example.get("reference")
    return normalise_answer(str(reference)) if reference not in (None, "") else None


def is_stale(text: str, old: str | None, new: str | None) -> bool:
    """The answer contains the old fact and not the new one (normalised containment)."""
    if not old or old == new:
        return False
    said = normalise_answer(text)
    return old in said and not (new and new in said)


def freshness(facts: RunFacts, roles: dict[str, str], correctness: str | None) -> Freshness | None:
    updates = facts.header.updates
    if not updates or not facts.variants:
        return None
    changed = [str(i) for i in updates.get("changed") or []]
    unchanged = [str(i) for i in updates.get("unchanged") or []]
    found = Freshness(corpus=str(updates.get("corpus")), changed=changed, unchanged=unchanged, rows=[])
    if correctness is None:
        found.notes.append("no correctness metric: the loss on changed facts cannot be measured")
        return found
    role_of = {s: r for r, s in roles.items()}
    kept = set(updates.get("kept_corpus") or [])
    settings = facts.header.settings
    for variant, original in facts.variants.items():
        before_values = facts.values(original, correctness, changed)
        after_values = facts.values(variant, correctness, changed)
        ids = [i for i in changed if i in before_values and i in after_values]
        reindexed = variant not in kept and facts.header.systems.get(variant, {}).get("corpus") is not None
        row = FreshnessRow(system=original, variant=variant, role=role_of.get(original), reindexed=reindexed,
                           metric=correctness, n_changed=len(ids),
                           before=_mean([before_values[i] for i in ids]), after=_mean([after_values[i] for i in ids]))
        if ids:
            diffs = [after_values[i] - before_values[i] for i in ids]
            low, high = bootstrap_ci(diffs, samples=settings.bootstrap_samples, confidence=settings.confidence,
                                     seed=stable_seed(settings.seed, "freshness", variant))
            up = facts.info(correctness).higher_is_better
            row.loss = Effect(key="freshness", label="after − before the update", formula=f"{variant} − {original}",
                              systems={"before": original, "after": variant}, metric=correctness, n=len(ids),
                              delta=sum(diffs) / len(diffs), ci_low=low, ci_high=high,
                              verdict=verdict(len(ids), low, high, up), power=power_of(diffs),
                              higher_is_better=up)
        for example_id in changed:
            outcome = facts.outcomes.get(variant, {}).get(example_id)
            old = _reference(facts.examples.get(example_id))
            new = _reference(facts.updated_examples.get(example_id))
            if outcome is not None and not outcome.error and is_stale(outcome.text, old, new):
                row.stale_ids.append(example_id)
        row.stale = len(row.stale_ids)
        controls = facts.values(variant, correctness, unchanged)
        row.n_unchanged = len(controls)
        row.unchanged_after = _mean(list(controls.values()))
        trained = bool(facts.header.systems.get(original, {}).get("train")) or facts.kind(original) == "finetuned"
        how = "re-indexed on the new corpus" if reindexed else "not retrained" if trained else "unchanged"
        if reindexed and trained:
            how += ", LoRA not retrained"
        row.text = _describe(row, settings.confidence, how)
        found.rows.append(row)
    if any(r.n_changed and r.n_changed < 10 for r in found.rows):
        found.notes.append("fewer than 10 changed facts: the before/after differences are too few to tell apart")
    return found


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _describe(row: FreshnessRow, confidence: float, how: str) -> str:
    if not row.n_changed:
        return f"{row.system} ({how}): no changed example answered both before and after the update"
    loss = row.loss
    assert loss is not None
    ci = f"{confidence:.0%} CI [{num(loss.ci_low, None, True)}, {num(loss.ci_high, None, True)}]"
    change = {"better": "gains", "worse": "loses", "no_difference": "shows no detectable change",
              "too_few": "changes (too few examples to tell)", "not_measured": "is not measured"}[loss.verdict]
    text = (f"{row.system} ({how}) {change} on the {row.n_changed} changed facts: {num(row.before)} → "
            f"{num(row.after)} ({num(loss.delta, None, True)}, {ci})")
    if row.stale:
        text += f"; {row.stale} answer(s) still give the old fact"
    if row.before is not None and row.before < LOW_BEFORE:
        text += f"; it knew few of these facts before the update ({num(row.before)}), so its loss says little about staleness"
    return text
