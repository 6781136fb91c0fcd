"""Exact match and the cost-side numbers (latency, tokens, cost) that every run records.

`reference_answer` is the one rule the answer-correctness metrics share for when there is
nothing to grade against: no reference, an empty one (how public datasets store unanswerable
questions), or an example marked unanswerable (the abstention metrics score those).
"""

from __future__ import annotations

import re
import string
from typing import Literal

from harness.metrics.base import Metric, MetricConfig, MetricContext, metric_type
from harness.metrics.extract import answer_text
from harness.types import Example, MetricInfo, Response, Score

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def reference_answer(example: Example) -> tuple[str | None, str]:
    """(the reference to grade against, "") or (None, why the correctness scores are undefined)."""
    if example.unanswerable:
        return None, "example is unanswerable (see the abstention metrics)"
    if example.reference is None:
        return None, "example has no reference answer"
    if not example.reference.strip():
        return None, "example's reference answer is empty (mark unanswerable questions with answerable: false)"
    return example.reference, ""


def normalise_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the SQuAD normalisation)."""
    text = _PUNCTUATION.sub("", text.lower())
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


class ExactMatchConfig(MetricConfig):
    type: Literal["exact_match"]
    json_field: str | None = None
    mode: Literal["exact", "contains"] = "exact"


class ExactMatch(Metric):
    group = "correctness"
    bounded = True  # never waits; linear in the output

    def __init__(self, config: ExactMatchConfig, context: MetricContext):
        self.config = config
        self.name = "exact_match" if config.mode == "exact" else "contains_answer"
        self.names = [self.name]

    async def score(self, example: Example, response: Response) -> list[Score]:
        reference, why = reference_answer(example)
        if reference is None:
            return [Score.undefined(self.name, why)]
        text, source = answer_text(response, self.config.json_field)
        got, want = normalise_answer(text), normalise_answer(reference)
        hit = got == want if self.config.mode == "exact" else bool(want) and want in got
        return [Score.ok(self.name, float(hit), source=source)]


metric_type("exact_match", ExactMatchConfig)(ExactMatch)


class LatencyConfig(MetricConfig):
    type: Literal["latency"]


class Latency(Metric):
    """Per-sample seconds; retrieval/generation are `undefined` for systems without that stage."""

    names = ["latency_s", "retrieval_latency_s", "generation_latency_s"]
    bounded = True  # never waits

    def __init__(self, config: LatencyConfig, context: MetricContext):
        pass

    def info(self, name: str) -> MetricInfo:
        return MetricInfo(higher_is_better=False, unit="s", group="cost")

    async def score(self, example: Example, response: Response) -> list[Score]:
        t = response.timings
        scores = [Score.ok("latency_s", t.total_s, cached=response.cached)]
        for name, value in (("retrieval_latency_s", t.retrieval_s), ("generation_latency_s", t.generation_s)):
            scores.append(
                Score.ok(name, value) if value is not None else Score.undefined(name, "system has no such stage")
            )
        return scores


metric_type("latency", LatencyConfig)(Latency)


class UsageConfig(MetricConfig):
    type: Literal["usage"]


class UsageAndCost(Metric):
    """Tokens in/out and cost in USD; `undefined` when the system does not report them (replay,
    custom systems) or the provider's price is unknown."""

    names = ["tokens_in", "tokens_out", "cost_usd"]
    bounded = True  # never waits

    def __init__(self, config: UsageConfig, context: MetricContext):
        pass

    def info(self, name: str) -> MetricInfo:
        return MetricInfo(higher_is_better=False, unit="usd" if name == "cost_usd" else "tokens", group="cost")

    async def score(self, example: Example, response: Response) -> list[Score]:
        cost = (
            Score.ok("cost_usd", response.cost_usd)
            if response.cost_usd is not None
            else Score.undefined("cost_usd", f"no price known for {response.model}")
        )
        if response.usage is None:
            reason = "system does not report token usage"
            return [Score.undefined("tokens_in", reason), Score.undefined("tokens_out", reason), cost]
        return [
            Score.ok("tokens_in", response.usage.input_tokens),
            Score.ok("tokens_out", response.usage.output_tokens),
            cost,
        ]


metric_type("usage", UsageConfig)(UsageAndCost)
