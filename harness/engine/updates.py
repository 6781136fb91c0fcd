"""The updated phase of a run: the suite's `updates:` (a second corpus version and the test
examples as they read after it) turned into extra systems named `<name>@updated`.

Each variant runs only on the update's examples. A system that reads the corpus (rag, hybrid,
oracle) is re-indexed on the new corpus through its `with_corpus` hook, keeping what its set-up
trained (the LoRA is not retrained: that is the point); every other system runs unchanged. The
run directory then holds, for the same example ids, the answers before the update (the main
phase, old references) and after it (the variants, new references), which is what
`harness decide` compares to measure how each approach copes when facts change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.errors import ConfigError
from harness.systems import System, SystemContext
from harness.types import Example

SUFFIX = "@updated"


@dataclass
class UpdatePhase:
    corpus: str
    examples: Sequence[Example]
    changed: list[str]
    unchanged: list[str]
    variants: dict[str, str] = field(default_factory=dict)  # variant name -> original system
    kept_corpus: list[str] = field(default_factory=list)  # variants whose system names its own corpus

    def content_hash(self) -> str:
        """Of the update's examples, so a resume notices they changed."""
        import hashlib

        return hashlib.sha256("\n".join(e.model_dump_json() for e in self.examples).encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """What run.json keeps (`updates`), read back by `harness decide`."""
        return {
            "corpus": self.corpus, "suffix": SUFFIX, "variants": dict(self.variants),
            "changed": list(self.changed), "unchanged": list(self.unchanged), "kept_corpus": list(self.kept_corpus),
            "content_hash": self.content_hash(),
        }


class UpdatedVariant(System):
    """A system after the knowledge update: its twin on the new corpus, made once the original's
    set-up (index, LoRA) is done, so the twin reuses what was trained and only re-indexes."""

    def __init__(self, original: System, context: SystemContext):
        self.original = original
        self.context = context
        self.twin: System | None = None
        self.warnings: list[str] = []

    async def setup(self) -> None:
        if self.twin is not None:
            return
        await self.original.setup()
        twin = self.original.with_corpus(self.context)
        if twin is not None:
            await twin.setup()
            self.warnings = list(twin.warnings)
        self.twin = twin or self.original

    def artifacts(self) -> Any:
        """The new index (its build time is the re-indexing cost) and the reused LoRA's key."""
        if self.twin is None or self.twin is self.original:
            return None
        return self.twin.artifacts()

    async def respond(self, example: Example) -> Any:
        if self.twin is None:
            await self.setup()
        assert self.twin is not None
        return await self.twin.respond(example)


def add_update_phase(plan: Any) -> UpdatePhase | None:
    """Add the `<name>@updated` variants of the plan's systems, each on the update's examples
    (`plan.tests`); None when the suite declares no update. Raises ConfigError before anything
    runs when the update's files are unusable."""
    from harness.data.datasets import read_examples
    from harness.retrieval.corpus import load_corpus

    suite = plan.suite
    updates = suite.updates
    if updates is None:
        return None
    source = updates.examples
    if "fields" not in source.model_fields_set:
        source = source.model_copy(update={"fields": suite.dataset.fields})
    examples = read_examples(source, suite, "updates.examples")
    if not examples:
        raise ConfigError("no examples in the update", where="updates.examples")
    load_corpus(updates.corpus, suite.base_dir, where="updates.corpus")  # fail now, not mid-run
    changed, unchanged = _changed(examples, plan.dataset.test, updates.changed_tag)
    if not changed:
        raise ConfigError(
            "none of the update's examples changed (same references as the test set"
            + (f", none tagged {updates.changed_tag!r})" if updates.changed_tag else ")"),
            where="updates.examples",
        )
    updated_suite = suite.model_copy(update={"corpus": updates.corpus})
    phase = UpdatePhase(corpus=updates.corpus.path, examples=examples, changed=changed, unchanged=unchanged)
    wanted = updates.systems or list(plan.systems)
    for name in [n for n in plan.systems if n in wanted]:
        variant = f"{name}{SUFFIX}"
        if variant in suite.systems:
            raise ConfigError(f"system {variant!r} clashes with the updated phase's name for {name!r}; rename it",
                              where=f"systems.{variant}")
        original = plan.systems[name]
        context = SystemContext(
            name=variant, suite=updated_suite, gateway=plan.gateway, train=plan.dataset.train, test=examples,
            cache_dir=plan.cache_dir, extras={"progress": plan.options.progress},
        )
        plan.systems[variant] = UpdatedVariant(original, context)
        plan.tests[variant] = examples
        config = suite.systems[name]
        if "corpus" in type(config).model_fields:
            if getattr(config, "corpus", None) is not None:
                phase.kept_corpus.append(variant)
            else:
                config = config.model_copy(update={"corpus": updates.corpus})
        suite.systems[variant] = config  # recorded in run.json as what ran
        phase.variants[variant] = name
    if phase.kept_corpus:
        plan.warnings.append(
            f"updates: {', '.join(phase.kept_corpus)} name their own corpus, which the update does not replace"
        )
    return phase


def _changed(examples: Sequence[Example], test: Sequence[Example], tag: str | None) -> tuple[list[str], list[str]]:
    """(changed ids, unchanged ids): by tag when given, else a reference that differs from the
    test set's (or an id the test set does not have)."""
    before = {e.id: e for e in test}
    changed, unchanged = [], []
    for example in examples:
        if tag is not None:
            is_changed = tag in example.tags
        else:
            old = before.get(example.id)
            is_changed = old is None or _answer(old) != _answer(example)
        (changed if is_changed else unchanged).append(example.id)
    return changed, unchanged


def _answer(example: Example) -> tuple[Any, ...]:
    return (example.reference, example.reference_json, tuple(example.reference_doc_ids))


def examples_for(plan: Any, system: str) -> Sequence[Example]:
    return plan.tests.get(system, plan.dataset.test)


__all__ = ["SUFFIX", "UpdatePhase", "UpdatedVariant", "add_update_phase", "examples_for"]
