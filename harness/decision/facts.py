"""One pass over a run directory into what the decision analysis needs, per system and example.

Read through `RunView` (the run record's one reader); nothing here calls a model or re-scores.
Only `ok` scores become values; `undefined` and `error` ones are counted where they matter.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Iterable

from harness.run import RunHeader, RunView
from harness.suite.decision import CostConfig, DecisionConfig
from harness.types import MetricInfo

# Correctness metrics in the order the analysis prefers them when the suite names none.
CORRECTNESS_ORDER = ["exact_match", "contains_answer", "field_accuracy", "factual_correctness", "token_f1",
                     "semantic_similarity"]
FORMAT_ORDER = ["json_schema", "json_valid", "choice", "regex"]


@dataclass(slots=True)
class Outcome:
    """One system's answer to one example, reduced to what the analysis reads (built when read
    from an `OutcomeTable`, which holds them all as columns)."""

    values: dict[str, float]  # the `ok` values
    status: dict[str, str]  # the statuses other than `ok` (undefined, error)
    error: bool
    text: str
    retrieved: list[str] | None  # document ids in rank order; None: the system does not retrieve
    total_s: float | None
    retrieval_s: float | None
    generation_s: float | None
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    cached: bool
    declined: bool | None


@dataclass
class RunFacts:
    header: RunHeader
    systems: list[str]
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> example (first seen, main phase)
    updated_examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> example after the update
    outcomes: dict[str, Mapping[str, Outcome]] = field(default_factory=dict)  # system -> id -> outcome
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
            found = self.outcomes.get(system, {})
            table = self._tables[(system, metric)] = found.metric_values(metric) if isinstance(found, OutcomeTable) \
                else {i: o.values[metric] for i, o in found.items() if metric in o.values}
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

    def __init__(self, header: RunHeader, decision: DecisionConfig | None = None, cost: CostConfig | None = None):
        self.header = header
        self.decision, self.cost = decision, cost
        self.variants = dict((header.updates or {}).get("variants") or {})
        self.systems: dict[str, None] = dict.fromkeys(header.systems)
        self.metrics: dict[str, None] = dict.fromkeys(header.metric_info)
        self.scored: set[str] = set()
        self.examples: dict[str, dict[str, Any]] = {}
        self.updated_examples: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, OutcomeTable] = {}

    def add(self, row: dict[str, Any]) -> None:
        system, example = row["system"], row["example"]
        example_id = str(example["id"])
        self.systems.setdefault(system, None)
        updated = system in self.variants
        kept = self.updated_examples if updated else self.examples
        if example_id not in kept:
            kept[example_id] = {k: example.get(k) for k in EXAMPLE_FIELDS}
        scores = row.get("scores") or {}
        for name in scores:
            self.metrics.setdefault(name, None)
        self.scored.update(scores)
        table = self.outcomes.get(system)
        if table is None:
            table = self.outcomes[system] = OutcomeTable()
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
NO_STATUS: dict[str, str] = {}  # shared by every outcome scored all ok; never changed
_NONE = math.nan  # a missing number in a column
_ABSENT, _FIRST_STATUS = 1, 2  # status codes: 0 ok with a value, 1 neither, 2.. an index into `statuses`


class OutcomeTable(Mapping[str, Outcome]):
    """One system's outcomes by example id, kept as columns: a few bytes a sample instead of an
    object with dicts each (the follower holds every sample's outcome until the run ends, so on
    100,000 samples this is ~10 MB instead of ~85). Reading an id builds its `Outcome`."""

    def __init__(self) -> None:
        self._ids: list[str] = []  # row -> example id (the sample's own string)
        self._rows: dict[str, int] = {}
        self._values: dict[str, array] = {}  # metric -> value per row (NaN: no ok value)
        self._codes: dict[str, bytearray] = {}  # metric -> status code per row
        self._statuses: list[str] = []  # the statuses other than ok, interned
        self._numbers = {name: array("d") for name in ("total_s", "retrieval_s", "generation_s", "cost_usd")}
        self._tokens = {name: array("q") for name in ("tokens_in", "tokens_out")}  # -1: not reported
        self._flags = bytearray()  # 1 error, 2 cached, 4 declined known, 8 declined
        self._texts: dict[int, str] = {}
        self._retrieved: dict[int, list[str]] = {}

    def add(self, example_id: str, response: dict[str, Any], scores: dict[str, Any], *, keep_text: bool) -> None:
        row = len(self._ids)
        self._ids.append(example_id)
        self._rows[example_id] = row  # a repeated id: the later sample, as a dict would keep
        for name, score in scores.items():
            if name not in self._values:
                self._values[name] = array("d", [_NONE]) * row
                self._codes[name] = bytearray([_ABSENT]) * row
        for name, column in self._values.items():
            score = scores.get(name)
            state = score.get("status") if score is not None else None
            if state == "ok" and score.get("value") is not None:  # type: ignore[union-attr]
                column.append(float(score["value"]))  # type: ignore[index]
                self._codes[name].append(0)
                continue
            column.append(_NONE)
            self._codes[name].append(_ABSENT if score is None or state == "ok" else self._status_code(str(state)))
        timings = response.get("timings") or {}
        for name in ("total_s", "retrieval_s", "generation_s"):
            self._numbers[name].append(_nan_for_none(timings.get(name)))
        self._numbers["cost_usd"].append(_nan_for_none(response.get("cost_usd")))
        usage = response.get("usage")
        for name, key in (("tokens_in", "input_tokens"), ("tokens_out", "output_tokens")):
            self._tokens[name].append(-1 if usage is None else int(usage.get(key) or 0))
        declined = (response.get("metadata") or {}).get("declined")
        self._flags.append(bool(response.get("error")) | 2 * bool(response.get("cached"))
                           | (0 if declined is None else 4 | 8 * bool(declined)))
        if keep_text:
            self._texts[row] = str(response.get("text") or "")
        retrieved = response.get("retrieved")
        if retrieved is not None:
            ordered = sorted(retrieved, key=lambda c: c.get("rank") or 0)
            self._retrieved[row] = list(dict.fromkeys(sys.intern(str(c.get("doc_id"))) for c in ordered))

    def _status_code(self, status: str) -> int:
        if status not in self._statuses:
            self._statuses.append(sys.intern(status))
        return _FIRST_STATUS + self._statuses.index(status)

    def metric_values(self, metric: str) -> dict[str, float]:
        """Example id -> `ok` value of `metric`, straight from its column."""
        column = self._values.get(metric)
        if column is None:
            return {}
        return {i: column[r] for i, r in self._rows.items() if column[r] == column[r]}  # NaN != NaN

    def _outcome(self, row: int) -> Outcome:
        values = {m: v for m, column in self._values.items() if (v := column[row]) == v}
        status = {m: self._statuses[c - _FIRST_STATUS] for m, codes in self._codes.items() if (c := codes[row]) >= 2}
        numbers = {name: None if (v := column[row]) != v else v for name, column in self._numbers.items()}
        tokens = {name: None if (v := column[row]) < 0 else v for name, column in self._tokens.items()}
        flags = self._flags[row]
        return Outcome(values=values, status=status or NO_STATUS, error=bool(flags & 1), text=self._texts.get(row, ""),
                       retrieved=self._retrieved.get(row), total_s=numbers["total_s"],
                       retrieval_s=numbers["retrieval_s"], generation_s=numbers["generation_s"],
                       tokens_in=tokens["tokens_in"], tokens_out=tokens["tokens_out"], cost_usd=numbers["cost_usd"],
                       cached=bool(flags & 2), declined=bool(flags & 8) if flags & 4 else None)

    def __getitem__(self, example_id: str) -> Outcome:
        return self._outcome(self._rows[example_id])

    def __contains__(self, example_id: object) -> bool:
        return example_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _nan_for_none(value: Any) -> float:
    return _NONE if value is None else float(value)
