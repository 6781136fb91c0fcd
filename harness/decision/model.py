"""The decision analysis as typed, JSON-serialisable records (`Decision.model_dump(mode="json")`).

Everything here is computed from a run directory; renderers (markdown, HTML, the notebook's
DataFrames, the run viewer) only format these records, so they all say the same thing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.stats.power import Power  # noqa: F401 - part of the Decision model

Verdict = Literal["better", "worse", "no_difference", "too_few", "not_measured"]


class RoleAssignment(BaseModel):
    role: str
    system: str | None
    how: str  # "declared", "the only <kind> system", "picked among ... (shares ...)" or why it is missing


class Roles(BaseModel):
    assigned: dict[str, str] = Field(default_factory=dict)  # role -> system
    details: list[RoleAssignment] = Field(default_factory=list)
    missing: dict[str, str] = Field(default_factory=dict)  # role -> what the analysis cannot say without it
    notes: list[str] = Field(default_factory=list)


class Effect(BaseModel):
    """One paired difference over the same examples, with its bootstrap CI and what it allows."""

    key: str  # retrieval | fine_tuning | combining | interaction | few_shot | retrieval_headroom
    label: str
    formula: str  # e.g. "rag − base"
    systems: dict[str, str]  # role -> system
    metric: str
    tag: str | None = None
    higher_is_better: bool = True
    n: int = 0
    n_dropped: int = 0  # examples left out: not scored ok by every system involved
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    verdict: Verdict = "not_measured"
    text: str = ""
    power: Power | None = None


class Bucket(BaseModel):
    key: str
    label: str
    count: int
    ids: list[str] = Field(default_factory=list)
    oracle_right: int | None = None  # retrieval misses the oracle answered right


class Attribution(BaseModel):
    """Where one system fails, one bucket per example."""

    system: str
    role: str | None
    scheme: Literal["retrieval", "no_retrieval"]
    n: int
    buckets: list[Bucket]


class MatrixCell(BaseModel):
    system: str
    mean: float | None
    n: int


class MatrixRow(BaseModel):
    aspect: Literal["knowledge", "behaviour"]
    metric: str
    tag: str | None
    cells: dict[str, MatrixCell]  # role -> cell
    winner: str | None  # role
    runner_up: str | None
    lead: Effect | None  # winner − runner-up, paired
    text: str
    tied: list[str] = Field(default_factory=list)  # roles sharing the best mean (no winner then)


class RuleCheck(BaseModel):
    rule: str  # "RAG brings the facts", ...
    status: Literal["confirmed", "refuted", "not_settled", "not_measured"]
    text: str


class Latency(BaseModel):
    p50: float | None = None
    p95: float | None = None
    n: int = 0


class SystemCost(BaseModel):
    system: str
    role: str | None
    total: Latency
    retrieval: Latency | None
    generation: Latency | None
    cached_share: float = 0.0
    tokens_in: float | None = None
    tokens_out: float | None = None
    usd_per_query: float | None = None
    usd_per_1k: float | None = None
    price_source: str = "no price known"
    training_s: float | None = None
    training_usd: float | None = None
    index_build_s: float | None = None
    index_usd: float | None = None
    other_one_off_usd: float = 0.0
    one_off_usd: float | None = None
    one_off_notes: list[str] = Field(default_factory=list)


class BreakEven(BaseModel):
    cheaper: str  # cheaper per query, dearer one-off
    other: str
    queries_per_month: float
    horizon_months: float
    text: str


class Costs(BaseModel):
    systems: list[SystemCost] = Field(default_factory=list)
    horizon_months: float = 12.0
    break_even: list[BreakEven] = Field(default_factory=list)
    retrieval_overhead: list[str] = Field(default_factory=list)  # sentences vs the 50-200 ms rule
    notes: list[str] = Field(default_factory=list)


class FreshnessRow(BaseModel):
    system: str  # the original system
    variant: str
    role: str | None
    reindexed: bool
    metric: str
    n_changed: int
    before: float | None  # on the changed examples, old facts, before the update
    after: float | None  # the same examples after the update, new facts
    loss: Effect | None = None  # after − before, paired
    stale: int = 0  # answers after the update that still give the old fact
    stale_ids: list[str] = Field(default_factory=list)
    unchanged_after: float | None = None  # controls: unchanged examples after the update
    n_unchanged: int = 0
    text: str = ""


class Freshness(BaseModel):
    corpus: str
    changed: list[str]
    unchanged: list[str]
    rows: list[FreshnessRow]
    notes: list[str] = Field(default_factory=list)


class Requirement(BaseModel):
    label: str
    system: str
    observed: float | None
    met: bool | None  # None: not measurable
    note: str = ""


class Recommendation(BaseModel):
    system: str | None
    role: str | None
    text: str  # the paragraph
    evidence: list[str] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    requirements: list[Requirement] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)  # candidate -> weighted score
    weights: dict[str, float] = Field(default_factory=dict)


class Decision(BaseModel):
    run_id: str
    suite: str
    correctness: str | None
    format: str | None
    confidence: float
    roles: Roles
    recommendation: Recommendation
    effects: list[Effect]
    tag_effects: list[Effect]
    attribution: list[Attribution]
    matrix: list[MatrixRow]
    rules: list[RuleCheck]
    costs: Costs
    freshness: Freshness | None
    power: list[Effect]  # the main comparisons with their power
    notes: list[str] = Field(default_factory=list)
