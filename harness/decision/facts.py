"""One pass over a run directory into what the decision analysis needs, per system and example.

Read through `RunView` (the run record's one reader); nothing here calls a model or re-scores.
Only `ok` scores become values; `undefined` and `error` ones are counted where they matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from harness.decision.outcomes import NO_STATUS, ExampleIndex, Outcome, OutcomeRow, OutcomeTable  # noqa: F401 - the facts' parts
from harness.run import RunHeader, RunView
from harness.suite.decision import CostConfig, DecisionConfig
from harness.types import MetricInfo

# Correctness metrics in the order the analysis prefers them when the suite names none.
CORRECTNESS_ORDER = ["exact_match", "contains_answer", "field_accuracy", "factual_correctness", "token_f1",
                     "semantic_similarity"]
FORMAT_ORDER = ["json_schema", "json_valid", "choice", "regex"]


@dataclass
class RunFacts:
    header: RunHeader
    systems: list[str]
    examples: dict[str, "ExampleFacts"] = field(default_factory=dict)  # id -> example (first seen, main phase)
    updated_examples: dict[str, "ExampleFacts"] = field(default_factory=dict)  # id -> example after the update
    outcomes: dict[str, OutcomeTable] = field(default_factory=dict)  # system -> id -> outcome
    metrics: list[str] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)  # updated-phase variant -> original
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    # (system, metric) -> id -> ok value, built on first use: every effect, tag and bucket reads these
    _tables: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict, repr=False)

    @property
    def main_systems(self) -> list[str]:
        """Systems of the main phase (the updated phase's variants left out)."""
        return [s for s in self.systems if s not in self.variants]

    def info(self, metric: str) -> MetricInfo:
        return self.header.info(metric)

    def kind(self, system: str) -> str:
        return self.header.kind(system)

    def values(self, system: str, metric: str, ids: list[str] | None = None) -> dict[str, float]:
        """Example id -> `ok` value of `metric` for `system` (only `ids`, in their order, when given).
        The whole table is shared: callers must not change it."""
        table = self._tables.get((system, metric))
        if table is None:
            found = self.outcomes.get(system)
            table = self._tables[(system, metric)] = found.metric_values(metric) if found is not None else {}
        return table if ids is None else {i: table[i] for i in ids if i in table}

    def mean(self, system: str, metric: str, ids: list[str] | None = None) -> float | None:
        values = self.values(system, metric, ids)
        return sum(values.values()) / len(values) if values else None

    def ids_with_tag(self, tag: str) -> list[str]:
        return [i for i, e in self.examples.items() if tag in (e.get("tags") or [])]

    def tags(self) -> list[str]:
        return list(dict.fromkeys(str(t) for e in self.examples.values() for t in (e.get("tags") or [])))

    def quality_metrics(self) -> list[str]:
        """Metrics that measure quality (every group but cost), in the run's order."""
        return [m for m in self.metrics if self.info(m).group != "cost"]

    def metric_of(self, group: str, declared: str | None, order: list[str]) -> str | None:
        """The declared metric, else the first of `order` in the run, else the group's first."""
        if declared is not None:
            return declared if declared in self.metrics else None
        present = [m for m in order if m in self.metrics and self.info(m).group == group]
        if present:
            return present[0]
        return next((m for m in self.metrics if self.info(m).group == group and self.info(m).higher_is_better), None)


def read_facts(view: RunView, decision: DecisionConfig | None = None, cost: CostConfig | None = None) -> RunFacts:
    """The run's samples as RunFacts; `decision`/`cost` override what run.json recorded."""
    return facts_from_rows(view.header, view.rows(), decision, cost)


def facts_from_rows(header: RunHeader, rows: Iterable[dict[str, Any]], decision: DecisionConfig | None = None,
                    cost: CostConfig | None = None) -> RunFacts:
    """RunFacts from samples already read."""
    builder = FactsBuilder(header, decision, cost)
    for row in rows:
        builder.add(row)
    return builder.finish()


class FactsBuilder:
    """RunFacts gathered one sample at a time, so the report's one streaming pass over the samples
    feeds the decision analysis too. Per sample it keeps scores, timings and retrieved ids, not
    texts (only the updated phase's answers, which the staleness check reads)."""

    def __init__(self, header: RunHeader, decision: DecisionConfig | None = None, cost: CostConfig | None = None,
                 *, index: ExampleIndex | None = None):
        self.header = header
        self.decision, self.cost = decision, cost
        self.variants = dict((header.updates or {}).get("variants") or {})
        self.systems: dict[str, None] = dict.fromkeys(header.systems)
        self.metrics: dict[str, None] = dict.fromkeys(header.metric_info)
        self.scored: set[str] = set()
        self.examples: dict[str, ExampleFacts] = {}
        self.updated_examples: dict[str, ExampleFacts] = {}
        self.outcomes: dict[str, OutcomeTable] = {}
        self.index = index if index is not None else ExampleIndex()  # shared by the systems' tables

    def add(self, row: dict[str, Any]) -> None:
        system, example = row["system"], row["example"]
        example_id = str(example["id"])
        self.systems.setdefault(system, None)
        updated = system in self.variants
        kept = self.updated_examples if updated else self.examples
        if example_id not in kept:
            kept[example_id] = ExampleFacts(example, keep_reference=bool(self.variants))
        scores = row.get("scores") or {}
        for name in scores:
            self.metrics.setdefault(name, None)
        self.scored.update(scores)
        table = self.outcomes.get(system)
        if table is None:
            table = self.outcomes[system] = OutcomeTable(self.index)
        table.add(example_id, row.get("response") or {}, scores, keep_text=updated)

    def finish(self, header: RunHeader | None = None) -> RunFacts:
        """The facts; `header` replaces the one given at the start (a followed run's final header)."""
        header = header or self.header
        recorded_decision = DecisionConfig.model_validate(header.decision) if header.decision else DecisionConfig()
        recorded_cost = CostConfig.model_validate(header.cost) if header.cost else CostConfig()
        facts = RunFacts(header=header, systems=[], variants=self.variants, examples=self.examples,
                         updated_examples=self.updated_examples, outcomes=self.outcomes,
                         decision=self.decision or recorded_decision, cost=self.cost or recorded_cost)
        facts.systems = [s for s in self.systems if s in self.outcomes or s in header.systems]
        facts.metrics = [m for m in self.metrics if m in self.scored]
        return facts


EXAMPLE_FIELDS = ("id", "tags", "reference", "reference_doc_ids")


class ExampleFacts:
    """What the analysis reads of an example, read like the example's dict (`get`): slots, and no
    empty lists, since one is held per example until the run ends. The reference answer is kept
    only for a run with an updated phase (the freshness analysis is its one reader)."""

    __slots__ = EXAMPLE_FIELDS

    def __init__(self, example: dict[str, Any], *, keep_reference: bool = True):
        for name in EXAMPLE_FIELDS:
            value = example.get(name) if keep_reference or name != "reference" else None
            setattr(self, name, None if isinstance(value, list) and not value else value)

    def get(self, name: str, default: Any = None) -> Any:
        value = getattr(self, name, None) if name in EXAMPLE_FIELDS else None
        return default if value is None else value
