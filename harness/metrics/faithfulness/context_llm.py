"""Judge-based retrieval quality for datasets without document ids (ragas collections metrics):

- `context_precision_llm`: ragas ContextPrecisionWithReference (each retrieved passage judged
  useful for the reference answer; average precision over ranks). Without a reference answer it
  falls back to ContextUtilization (usefulness for the system's own answer), recorded in detail.
- `context_recall_llm`: ragas ContextRecall (share of the reference answer's statements that
  the retrieved passages support).
Both need a judge model (else `error`), and retrieved passages (else `undefined`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.metrics.base import Metric, MetricConfig, MetricContext, finite_or_error, metric_type
from harness.metrics.extract import answer_text
from harness.metrics.faithfulness.llm_judge import LLMJudge, _failure, _ragas_llm_class, load_ragas
from harness.types import Example, Response, Score


class ContextPrecisionLLMConfig(MetricConfig):
    type: Literal["context_precision_llm"]
    judge_model: str | None = Field(None, description="Overrides the suite's judge model.")
    json_field: str | None = Field("answer", description="Answer field used when there is no reference.")


class ContextRecallLLMConfig(MetricConfig):
    type: Literal["context_recall_llm"]
    judge_model: str | None = Field(None, description="Overrides the suite's judge model.")


class ContextLLM(Metric):
    group = "retrieval"

    def __init__(self, config: ContextPrecisionLLMConfig | ContextRecallLLMConfig, context: MetricContext):
        self.config = config
        self.name = config.type
        self.names = [self.name]
        model = config.judge_model or context.judge_model
        self.judge = LLMJudge.from_context(context, model) if model else None

    async def score(self, example: Example, response: Response) -> list[Score]:
        name = self.name
        if self.judge is None:
            return [Score.failed(name, "no judge model configured (set judge.model in the suite)")]
        if response.retrieved is None:
            return [Score.undefined(name, "system does not retrieve")]
        contexts = [c.text for c in sorted(response.retrieved, key=lambda c: c.rank) if c.text.strip()]
        if not contexts:
            return [Score.ok(name, 0.0, note="nothing retrieved")]
        ragas = await load_ragas()  # ragas.metrics.collections
        llm = _ragas_llm_class()(self.judge)
        kwargs: dict[str, Any] = {"user_input": example.input, "retrieved_contexts": contexts}
        if name == "context_recall_llm":
            if not example.reference:
                return [Score.undefined(name, "example has no reference answer")]
            metric, against = ragas.ContextRecall(llm=llm), "reference"
            kwargs["reference"] = example.reference
        elif example.reference:
            metric, against = ragas.ContextPrecisionWithReference(llm=llm), "reference"
            kwargs["reference"] = example.reference
        else:
            answer, _ = answer_text(response, getattr(self.config, "json_field", None))
            if not answer.strip():
                return [Score.undefined(name, "no reference answer and no system answer")]
            metric, against = ragas.ContextUtilization(llm=llm), "response"
            kwargs["response"] = answer
        try:
            result = await metric.ascore(**kwargs)
        except Exception as error:  # noqa: BLE001 - every judge failure becomes this score's error
            return [Score.failed(name, _failure(error), **self.judge._detail(llm.calls))]
        detail = self.judge._detail(llm.calls, against=against, n_contexts=len(contexts))
        if name == "context_recall_llm":
            parsed = [c["parsed"] for c in llm.calls if c["parsed"] is not None]
            if not parsed or not parsed[-1].get("classifications"):
                return [Score.undefined(name, "no statements in the reference", **detail)]
        return [finite_or_error(name, result.value, **detail)]


metric_type("context_precision_llm", ContextPrecisionLLMConfig)(ContextLLM)
metric_type("context_recall_llm", ContextRecallLLMConfig)(ContextLLM)
