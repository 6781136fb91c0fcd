"""`faithfulness`: are the answer's claims supported by the contexts the system retrieved?

Two judges, chosen by `judge` (default `auto`: the LLM judge when the suite has a judge model,
else the offline judge):
- `llm`: ragas Faithfulness (statements, then verdicts) through the gateway; see llm_judge.py.
- `offline`: no LLM; evidence signals (embedding similarity, numbers, names, negation, whether
  the answer addresses the question) combined by a model fitted on hand-labelled cases; see
  offline.py. `offline: {version: offline-v1}` brings back the earlier rule-based judge.
Every score's detail names the judge, its version and its measured agreement with human labels
(agreement.json, written by benchmarks/bench_offline_judge.py; None where not measured).
Undefined when the response has no contexts ("no contexts") or the answer has no claims ("no claims").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.errors import ConfigError
from harness.metrics.base import Metric, MetricConfig, MetricContext, finite_or_error, metric_type
from harness.metrics.extract import answer_text
from harness.metrics.faithfulness.agreement import agreement_for
from harness.metrics.faithfulness.offline import OfflineJudge, OfflineJudgeSettings
from harness.metrics.faithfulness.offline_v1 import OfflineJudgeV1
from harness.types import Example, Response, Score

__all__ = ["Faithfulness", "FaithfulnessConfig", "OfflineJudge", "OfflineJudgeSettings"]


class FaithfulnessConfig(MetricConfig):
    type: Literal["faithfulness"]
    name: str = "faithfulness"
    judge: Literal["auto", "llm", "offline"] = "auto"
    judge_model: str | None = Field(None, description="Overrides the suite's judge model for this metric.")
    json_field: str | None = Field("answer", description="Judge this field when the output is JSON.")
    offline: OfflineJudgeSettings = Field(default_factory=OfflineJudgeSettings)


class Faithfulness(Metric):
    group = "faithfulness"

    def __init__(self, config: FaithfulnessConfig, context: MetricContext):
        self.config = config
        self.names = [config.name]
        model = config.judge_model or context.judge_model
        kind = config.judge if config.judge != "auto" else ("llm" if model else "offline")
        if kind == "llm" and not model:
            raise ConfigError("faithfulness with judge: llm needs a judge model (judge.model or judge_model)")
        self.llm = None
        self.offline = None
        if kind == "llm":
            from harness.metrics.faithfulness.llm_judge import LLMJudge

            self.llm = LLMJudge.from_context(context, model)
        else:
            gateway, embedding_model = context.gateway, config.offline.embedding_model

            async def embed(texts: list[str]):
                return await gateway.embed(embedding_model, texts)

            if config.offline.version == "offline-v1":
                self.offline = OfflineJudgeV1(config.offline, embed if embedding_model else None)
            elif not embedding_model:
                raise ConfigError(
                    "faithfulness: the offline judge offline-v2 needs offline.embedding_model; "
                    "set offline.version: offline-v1 for the lexical-only judge"
                )
            else:
                self.offline = OfflineJudge(config.offline, embed)

    async def score(self, example: Example, response: Response) -> list[Score]:
        name = self.config.name
        contexts = [c.text for c in sorted(response.retrieved or [], key=lambda c: c.rank) if c.text.strip()]
        if not contexts:
            return [Score.undefined(name, "no contexts")]
        answer, source = answer_text(response, self.config.json_field)
        if not answer.strip():
            return [Score.undefined(name, "no claims", source=source)]
        if self.llm is not None:
            score = await self.llm.faithfulness(name, example.input, answer, contexts)
            score.detail["source"] = source
            score.detail["agreement"] = agreement_for("llm", score.detail.get("judge_version"))
            return [score]
        judge = self.offline
        assert judge is not None
        version = "offline-v1" if isinstance(judge, OfflineJudgeV1) else "offline-v2"
        try:
            if isinstance(judge, OfflineJudgeV1):
                verdict = await judge.judge(answer, contexts)
            else:
                verdict = await judge.judge(example.input, answer, contexts)
        except Exception as error:  # noqa: BLE001 - an embedding failure is this score's error
            return [Score.failed(
                name, f"offline judge failed: {type(error).__name__}: {error}",
                judge="offline", judge_id=judge.judge_id, judge_version=version, agreement=agreement_for("offline", version),
            )]  # fmt: skip
        detail = {**judge.detail(verdict), "source": source, "agreement": agreement_for("offline", version)}
        if verdict.value is None:
            return [Score.undefined(name, verdict.reason or "no claims", **detail)]
        return [finite_or_error(name, verdict.value, **detail)]


metric_type("faithfulness", FaithfulnessConfig)(Faithfulness)

from harness.metrics.faithfulness import context_llm  # noqa: E402,F401  (registers context_*_llm)
