"""Answer correctness beyond exact match: token F1, embedding similarity, and the judge's
factual correctness (claims of the answer checked against the reference, ragas-style)."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from harness.metrics.base import Metric, MetricConfig, MetricContext, finite_or_error, metric_type
from harness.metrics.basic import normalise_answer, reference_answer
from harness.metrics.extract import answer_text
from harness.types import Example, Response, Score

DEFAULT_EMBEDDING_MODEL = "local/all-minilm-l6-v2"


def token_f1(prediction: str, reference: str) -> tuple[float, float, float]:
    """SQuAD token F1 after normalise_answer(): (f1, precision, recall). Both empty -> 1; one empty -> 0."""
    got, want = normalise_answer(prediction).split(), normalise_answer(reference).split()
    if not got or not want:
        same = float(got == want)
        return same, same, same
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0, 0.0, 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall), precision, recall


class TokenF1Config(MetricConfig):
    type: Literal["token_f1"]
    json_field: str | None = None


class TokenF1(Metric):
    group = "correctness"
    bounded = True  # never waits; linear in the output
    names = ["token_f1"]

    def __init__(self, config: TokenF1Config, context: MetricContext | None = None):
        self.config = config

    async def score(self, example: Example, response: Response) -> list[Score]:
        reference, why = reference_answer(example)
        if reference is None:
            return [Score.undefined("token_f1", why)]
        text, source = answer_text(response, self.config.json_field)
        f1, precision, recall = token_f1(text, reference)
        return [Score.ok("token_f1", f1, precision=precision, recall=recall, source=source)]


metric_type("token_f1", TokenF1Config)(TokenF1)


class SemanticSimilarityConfig(MetricConfig):
    type: Literal["semantic_similarity"]
    model: str = Field(DEFAULT_EMBEDDING_MODEL, description="Embedding model, through the gateway.")
    json_field: str | None = None


class SemanticSimilarity(Metric):
    group = "correctness"

    """Cosine similarity of the answer's and the reference's embeddings (-1..1)."""

    names = ["semantic_similarity"]

    def __init__(self, config: SemanticSimilarityConfig, context: MetricContext):
        self.config = config
        self.gateway = context.gateway

    async def score(self, example: Example, response: Response) -> list[Score]:
        name = "semantic_similarity"
        reference, why = reference_answer(example)
        if reference is None:
            return [Score.undefined(name, why)]
        text, source = answer_text(response, self.config.json_field)
        if not text.strip():
            return [Score.ok(name, 0.0, source=source, note="empty answer")]
        try:
            vectors = await self.gateway.embed(self.config.model, [text, reference])
        except Exception as error:  # noqa: BLE001 - any embedding failure is this score's error
            return [Score.failed(name, f"embedding failed: {type(error).__name__}: {error}", model=self.config.model)]
        cosine = float(vectors[0] @ vectors[1])
        return [finite_or_error(name, cosine, model=self.config.model, source=source)]


metric_type("semantic_similarity", SemanticSimilarityConfig)(SemanticSimilarity)


class FactualCorrectnessConfig(MetricConfig):
    type: Literal["factual_correctness"]
    mode: Literal["f1", "precision", "recall"] = "f1"
    json_field: str | None = None
    judge_model: str | None = Field(None, description="Overrides the suite's judge model.")


class FactualCorrectness(Metric):
    group = "correctness"

    """Judge-based (ragas FactualCorrectness algorithm): the answer's and the reference's claims are
    checked against each other; precision = answer claims the reference supports, recall =
    reference claims the answer supports. Needs a judge model: without one every score is `error`."""

    def __init__(self, config: FactualCorrectnessConfig, context: MetricContext):
        from harness.metrics.faithfulness.llm_judge import LLMJudge

        self.config = config
        self.name = "factual_correctness" if config.mode == "f1" else f"factual_correctness_{config.mode}"
        self.names = [self.name]
        model = config.judge_model or context.judge_model
        self.judge = LLMJudge.from_context(context, model) if model else None

    async def score(self, example: Example, response: Response) -> list[Score]:
        if self.judge is None:
            return [Score.failed(self.name, "no judge model configured (set judge.model in the suite)")]
        reference, why = reference_answer(example)
        if reference is None:
            return [Score.undefined(self.name, why)]
        text, source = answer_text(response, self.config.json_field)
        return [await self.judge.factual_correctness(self.name, example.input, text, reference, self.config.mode)]


metric_type("factual_correctness", FactualCorrectnessConfig)(FactualCorrectness)
