"""Where each system fails: one bucket per example, so the buckets add up to the examples.

The order of the checks is the order of the questions a team asks about a wrong answer:

1. the system failed (`error`), or the answer could not be scored (`unscored`);
2. abstention: it declined an answerable question, or answered one it should have declined
   (read from metrics of group "abstention": a lower-is-better one at 1 means wrongly declined,
   a higher-is-better one at 0 means wrongly answered);
3. right answer: `correct`, or `format_failure` when the format metric failed;
4. wrong answer, systems that retrieve: `retrieval_miss` (no reference document in what it
   retrieved), else `fixed_by_oracle` (the oracle, given the reference documents, got it right:
   a retrieval problem: ranking, chunking, too little context) or `wrong_with_oracle` (wrong even
   with the right documents: a generation problem); `retrieved_wrong` when the run has no oracle;
   when the example names no reference documents, the oracle alone decides;
5. wrong answer, systems that do not retrieve: `knowledge` (the facts are not in the model).

Right/wrong is the correctness metric at or above `correct_at`; the format is right when the
format metric is 1.
"""

from __future__ import annotations

from harness.decision.facts import RunFacts
from harness.decision.outcomes import OutcomeRow, OutcomeTable
from harness.decision.model import Attribution, Bucket

BUCKETS = {
    "correct": "correct",
    "format_failure": "right answer, format failure",
    "retrieval_miss": "retrieval miss (no reference document retrieved)",
    "fixed_by_oracle": "retrieved but wrong; fixed by the oracle (retrieval problem)",
    "wrong_with_oracle": "wrong even with the oracle (generation problem)",
    "retrieved_wrong": "retrieved but answered wrong",
    "knowledge": "wrong answer (knowledge failure)",
    "wrongly_declined": "wrongly declined",
    "wrongly_answered": "wrongly answered (should have declined)",
    "error": "system error",
    "unscored": "not scored (correctness undefined)",
}
COLOURS = {
    "correct": "#4CAF50", "format_failure": "#FFB300", "retrieval_miss": "#E53935", "fixed_by_oracle": "#FB8C00",
    "wrong_with_oracle": "#8E24AA", "retrieved_wrong": "#C62828", "knowledge": "#6D4C41",
    "wrongly_declined": "#1E88E5", "wrongly_answered": "#00ACC1", "error": "#212121", "unscored": "#BDBDBD",
}
FORMAT_OK = 1.0 - 1e-9


class Judge:
    """Per-example right/wrong, format and abstention reads for one run."""

    def __init__(self, facts: RunFacts, correctness: str | None, fmt: str | None, correct_at: float):
        self.facts, self.correctness, self.format, self.correct_at = facts, correctness, fmt, correct_at
        self.abstention = [m for m in facts.metrics if facts.info(m).group == "abstention"]

    def right(self, outcome: OutcomeRow | None) -> bool | None:
        if outcome is None or self.correctness is None or self.correctness not in outcome.values:
            return None
        return outcome.values[self.correctness] >= self.correct_at

    def format_ok(self, outcome: OutcomeRow) -> bool | None:
        if self.format is None or self.format not in outcome.values:
            return None
        return outcome.values[self.format] >= FORMAT_OK

    def abstention_failure(self, outcome: OutcomeRow) -> str | None:
        for metric in self.abstention:
            if metric not in outcome.values:
                continue
            value = outcome.values[metric]
            if not self.facts.info(metric).higher_is_better and value >= 0.5:
                return "wrongly_declined"
            if self.facts.info(metric).higher_is_better and value < 0.5:
                return "wrongly_answered"
        return None


def bucket_of(judge: Judge, outcome: OutcomeRow, reference_docs: list[str], oracle: OutcomeRow | None,
              retrieves: bool, is_oracle: bool = False) -> tuple[str, bool | None]:
    """(bucket, whether the oracle got this example right) for one system's answer. The oracle's
    own wrong answers are generation problems: it was given the reference documents."""
    if outcome.error:
        return "error", None
    abstained = judge.abstention_failure(outcome)
    if abstained:
        return abstained, None
    right = judge.right(outcome)
    if right is None:
        return "unscored", None
    if right:
        return ("format_failure" if judge.format_ok(outcome) is False else "correct"), None
    if is_oracle:
        return "wrong_with_oracle", False
    oracle_right = judge.right(oracle)
    if not retrieves:
        return "knowledge", oracle_right
    if reference_docs and outcome.retrieved is not None and not set(reference_docs) & set(outcome.retrieved):
        return "retrieval_miss", oracle_right
    if oracle_right is None:
        return "retrieved_wrong", None
    return ("fixed_by_oracle" if oracle_right else "wrong_with_oracle"), oracle_right


def attribute(facts: RunFacts, judge: Judge, roles: dict[str, str], systems: list[str]) -> list[Attribution]:
    role_of = {s: r for r, s in roles.items()}
    oracle = roles.get("oracle")
    found = []
    for system in systems:
        outcomes = facts.outcomes.get(system) or OutcomeTable()
        retrieves = system != oracle and outcomes.retrieves()
        ids: dict[str, list[str]] = {key: [] for key in BUCKETS}
        oracle_fixes = 0
        for example_id, outcome in outcomes.items():
            example = facts.examples.get(example_id) or {}
            other = facts.outcomes.get(oracle, {}).get(example_id) if oracle and system != oracle else None
            key, oracle_right = bucket_of(judge, outcome, list(example.get("reference_doc_ids") or []), other, retrieves,
                                          is_oracle=system == oracle)
            ids[key].append(example_id)
            oracle_fixes += int(key == "retrieval_miss" and bool(oracle_right))
        buckets = [
            Bucket(key=key, label=label, count=len(ids[key]), ids=ids[key],
                   oracle_right=oracle_fixes if key == "retrieval_miss" and oracle else None)
            for key, label in BUCKETS.items() if ids[key] or key in ("correct",)
        ]
        found.append(Attribution(system=system, role=role_of.get(system), n=len(outcomes), buckets=buckets,
                                 scheme="retrieval" if retrieves else "no_retrieval"))
    return found
