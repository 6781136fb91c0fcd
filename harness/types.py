"""Core records that flow from suite to run directory: Example -> Response -> Score.

They are plain pydantic models so every stage can serialise them to the run directory and
read them back without knowing who produced them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ScoreStatus = Literal["ok", "undefined", "error"]
UNANSWERABLE_TAG = "unanswerable"


class Example(BaseModel):
    """One row of the dataset. `test` rows are evaluated; `train` rows feed few-shot and fine-tuning."""

    model_config = ConfigDict(extra="forbid")

    id: str
    input: str
    reference: str | None = None
    reference_json: Any = None
    reference_doc_ids: list[str] = Field(default_factory=list)
    reference_relevance: dict[str, float] = Field(default_factory=dict)
    reference_contexts: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    split: str = "test"
    metadata: dict[str, Any] = Field(default_factory=dict)
    answerable: bool | None = Field(
        None, description="False: the right response is to decline. None: not said (see `unanswerable`)."
    )

    @property
    def unanswerable(self) -> bool:
        """Marked unanswerable: `answerable: false`, or the `unanswerable` tag when the field is unset."""
        if self.answerable is not None:
            return not self.answerable
        return UNANSWERABLE_TAG in self.tags


class RetrievedChunk(BaseModel):
    """A piece of context a system retrieved, in rank order (rank 1 is best)."""

    chunk_id: str
    doc_id: str
    text: str = ""
    score: float | None = None
    rank: int


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class Timings(BaseModel):
    """Seconds of the system's own time for one sample (README: "What latency means").

    `total_s` runs from when the sample's work starts, not from when it was queued; a model or
    endpoint call counts from its first attempt to its final answer, backoff included.
    `retrieval_s`/`generation_s` are None when the system has no such stage. `queue_s` is the
    time its calls waited for a concurrency slot, kept apart (not in `total_s`); None in runs
    recorded before it was.
    """

    total_s: float = 0.0
    retrieval_s: float | None = None
    generation_s: float | None = None
    queue_s: float | None = None


class Response(BaseModel):
    """What a system under test produced for one example, success or failure."""

    text: str = ""
    parsed: Any = None
    retrieved: list[RetrievedChunk] | None = None
    usage: Usage | None = Field(default_factory=Usage, description="None: the system does not report tokens.")
    cost_usd: float | None = 0.0
    timings: Timings = Field(default_factory=Timings)
    model: str | None = None
    cached: bool = False
    error: str | None = None
    attempts: int | None = Field(
        None, ge=1,
        description="Tries its model or endpoint call took (1: no retry); None: no such call (a Python "
        "function, replay) or a run recorded before attempts were.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def retrieved_doc_ids(self) -> list[str] | None:
        """Document ids in rank order, first occurrence kept (several chunks may share a document)."""
        if self.retrieved is None:
            return None
        seen: dict[str, None] = {}
        for chunk in sorted(self.retrieved, key=lambda c: c.rank):
            seen.setdefault(chunk.doc_id, None)
        return list(seen)


class Score(BaseModel):
    """One metric value for one sample. `value` is None unless status is `ok`."""

    name: str
    value: float | None = None
    status: ScoreStatus = "ok"
    reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def ok(cls, name: str, value: float, **detail: Any) -> "Score":
        return cls(name=name, value=float(value), status="ok", detail=detail)

    @classmethod
    def undefined(cls, name: str, reason: str, **detail: Any) -> "Score":
        return cls(name=name, status="undefined", reason=reason, detail=detail)

    @classmethod
    def failed(cls, name: str, reason: str, **detail: Any) -> "Score":
        return cls(name=name, status="error", reason=reason, detail=detail)


MetricGroup = Literal["correctness", "faithfulness", "retrieval", "format", "abstention", "cost", "quality"]


class MetricInfo(BaseModel):
    """How to read one score name: which way is better, its unit, what it measures.

    Declared by each metric type and recorded per score name in run.json, so reports, compare
    and gate read the direction from the run instead of guessing it from the name.
    """

    model_config = ConfigDict(frozen=True)

    higher_is_better: bool = True
    unit: str | None = Field(None, description="None: a unitless score (usually 0..1); else 's', 'usd', 'tokens', ...")
    group: MetricGroup = "quality"


_COST_NAMES = {"latency_s": "s", "cost_usd": "usd", "tokens_in": "tokens", "tokens_out": "tokens", "error_rate": None}


def infer_metric_info(name: str) -> MetricInfo:
    """The rule for names whose metric declared nothing (runs written before metric info was
    recorded, plug-ins without `info`): the cost side is lower-is-better, the rest higher."""
    if name in _COST_NAMES:
        return MetricInfo(higher_is_better=False, unit=_COST_NAMES[name], group="cost")
    if name.endswith("_latency_s"):
        return MetricInfo(higher_is_better=False, unit="s", group="cost")
    return MetricInfo()
