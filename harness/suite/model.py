"""The suite file's typed shape. Strict: unknown keys are errors, so typos never pass silently.

System and metric entries are unions built from the registries at load time, so a kind added by
an adapter (or a plug-in) is validated and documented in the JSON Schema like a built-in one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, field_validator, model_validator

from harness.suite.decision import CostConfig, DecisionConfig, suite_name_problems
from harness.suite.gate import GateConfig
from harness.gateway.request import GenerationParams
from harness.gateway.retry import RetryPolicy
from harness.gateway.scripted import ScriptedModelSpec
from harness.retrieval.config import CorpusConfig, RetrievalConfig
from harness.files.paths import resolve_in_folder
from harness.metrics.base import DEFAULT_SCORING_TIMEOUT_S

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@=,+\[\]-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class FieldMap(Strict):
    """Which column of the user's data holds each of our fields (None: the data has none)."""

    id: str | None = "id"
    input: str = "input"
    reference: str | None = "reference"
    reference_json: str | None = "reference_json"
    reference_doc_ids: str | None = "reference_doc_ids"
    reference_relevance: str | None = Field(
        None, description="Column holding {doc_id: graded relevance} for graded retrieval metrics."
    )
    reference_contexts: str | None = "reference_contexts"
    tags: str | None = "tags"
    split: str | None = "split"
    answerable: str | None = Field(
        "answerable",
        description="Column saying whether the question can be answered (true/false, yes/no, 1/0); "
        "false marks it unanswerable: correctness metrics skip it, the abstention metrics score it.",
    )


class DatasetSource(Strict):
    """Exactly one of `path` (JSONL/JSON/CSV/Parquet or a saved datasets folder), `hf` or `inline`."""

    path: str | None = None
    format: Literal["jsonl", "json", "csv", "parquet", "hf_disk"] | None = None
    hf: str | None = Field(None, description="Hugging Face dataset name (needs the network or its cache).")
    hf_config: str | None = None
    hf_split: str | None = None
    inline: list[dict[str, Any]] | None = None
    fields: FieldMap = Field(default_factory=FieldMap)

    @model_validator(mode="after")
    def _one_source(self) -> "DatasetSource":
        given = [k for k in ("path", "hf", "inline") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of path, hf or inline (got {', '.join(given) or 'none'})")
        return self


class DatasetConfig(DatasetSource):
    """Rows whose split column says `test_split` are evaluated; `train_split` rows feed few-shot
    and fine-tuning. Rows with no split column count as test. `train` may name a separate source."""

    train: DatasetSource | None = None
    test_split: str = "test"
    train_split: str = "train"
    limit: int | None = Field(None, gt=0, description="Evaluate only the first N test examples.")


class AnswerFormat(Strict):
    """The answer format systems are asked for. `schema` is a JSON Schema (inline, a boolean, or a
    file path); `draft` is the draft a schema without `$schema` is read as."""

    json_schema: dict[str, Any] | bool | str | None = Field(None, alias="schema")
    draft: Literal["4", "6", "7", "2019-09", "2020-12"] = Field(
        "2020-12", description="JSON Schema draft for a schema without $schema (4, 6, 7, 2019-09, 2020-12)."
    )
    instructions: str | None = Field(
        None, description="Text a prompt can include as {{format_instructions}}."
    )
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("draft", mode="before")
    @classmethod
    def _canonical_draft(cls, value: Any) -> str:
        from harness.metrics.schema_dialect import normalise_draft

        return normalise_draft(value)


class Defaults(Strict):
    """Applied to every system that calls a model and does not set these itself."""

    model: str | None = None
    params: GenerationParams | None = None


MAX_CONCURRENCY = 10_000  # calls in flight per provider: far beyond any provider's rate limit
MAX_TIMEOUT_S = 86_400.0  # a day per call: anything longer is a typo, and infinity breaks the record


class Settings(Strict):
    concurrency: int = Field(8, gt=0, le=MAX_CONCURRENCY, description="Concurrent calls per provider.")
    concurrency_per_provider: dict[str, Annotated[int, Field(gt=0, le=MAX_CONCURRENCY)]] = Field(default_factory=dict)
    timeout_s: float = Field(120.0, gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False, description="Per model call.")
    scoring_timeout_s: float = Field(
        DEFAULT_SCORING_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False,
        description="Per metric and sample: how long one metric may take to score one output, its judge calls "
        "included. Past it the score is `error` (\"scoring timed out after N s\") and the run goes on.",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    seed: int = Field(0, ge=0, lt=2**63)
    bootstrap_samples: int = Field(1000, ge=100, le=1_000_000)
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    max_error_rate: float = Field(
        0.1, ge=0.0, le=1.0,
        description="Above this share of error samples the run is unusable: `harness run` exits 3.",
    )


class JudgeConfig(Strict):
    model: str | None = Field(None, description="litellm model for judge metrics; None: offline judge.")
    params: GenerationParams = Field(default_factory=lambda: GenerationParams(max_tokens=4096))
    max_error_rate: float = Field(0.1, ge=0.0, le=1.0, description="Above this the run is degraded.")


class UpdatesConfig(Strict):
    """A change of knowledge to measure: the corpus after the update and the test examples as they
    read after it. Systems that read the corpus are re-indexed on it (LoRAs are not retrained) and
    every selected system runs again on these examples as `<name>@updated`."""

    corpus: CorpusConfig = Field(..., description="The corpus after the update (the second version).")
    examples: DatasetSource = Field(
        ..., description="Test examples after the update (same ids as the test set; new references). "
        "Without `fields`, the dataset's field mapping is used."
    )
    changed_tag: str | None = Field(
        None, description="Count only examples with this tag as changed (default: those whose reference differs "
        "from the test set's, or whose id is new); the rest are unchanged controls."
    )
    systems: list[str] | None = Field(None, description="Systems to run on the update (default: every system).")


class SuiteBase(Strict):
    name: str = Field(..., pattern=NAME_PATTERN)
    description: str | None = None
    dataset: DatasetConfig
    corpus: CorpusConfig | None = None
    retrieval: dict[str, RetrievalConfig] = Field(
        default_factory=dict, description="Named retrieval blocks that RAG-style systems refer to by name."
    )
    answer_format: AnswerFormat | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    scripted_models: dict[str, ScriptedModelSpec] = Field(default_factory=dict)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    settings: Settings = Field(default_factory=Settings)
    gate: GateConfig | None = Field(None, description="Rules for `harness gate` (see docs/ci.md).")
    decision: DecisionConfig | None = Field(None, description="Roles and goals for `harness decide` (see docs/decision.md).")
    cost: CostConfig | None = Field(None, description="Prices for the cost part of `harness decide`.")
    updates: UpdatesConfig | None = Field(None, description="A knowledge update to measure freshness on (docs/decision.md).")

    _base_dir: Path = PrivateAttr(default=Path("."))
    _path: Path | None = PrivateAttr(default=None)
    _content_hash: str = PrivateAttr(default="")

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def content_hash(self) -> str:
        return self._content_hash

    def resolve(self, relative: str | Path, *, where: str = "suite") -> Path:
        """Paths in a suite file are relative to the suite file's folder and may not leave it."""
        return resolve_in_folder(self._base_dir, relative, where=where)

    @field_validator("systems", check_fields=False)
    @classmethod
    def _names(cls, systems: dict[str, Any]) -> dict[str, Any]:
        import re

        # fullmatch: `$` alone would let a name end in a newline (and split every line it is on)
        bad = [n for n in systems if not re.fullmatch(NAME_PATTERN, n)]
        if bad:
            raise ValueError(f"system names may use letters, digits and _.-@=,+[] only: {', '.join(map(repr, bad))}")
        if not systems:
            raise ValueError("declare at least one system")
        return systems

    @model_validator(mode="after")
    def _named_systems_exist(self) -> "SuiteBase":
        systems = getattr(self, "systems", None) or {}
        problems = suite_name_problems(self.decision, self.cost, systems)
        if self.updates is not None:
            problems += [f"updates.systems[{i}]: no system named {name!r} (known: {', '.join(systems)})"
                         for i, name in enumerate(self.updates.systems or []) if name not in systems]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def build_suite_model(system_configs: list[type[BaseModel]], metric_configs: list[type[BaseModel]]) -> type:
    """The Suite model for the kinds and metric types registered right now."""
    system_union = _union(system_configs, "kind")
    metric_union = _union(metric_configs, "type")
    return create_model(
        "Suite",
        __base__=SuiteBase,
        systems=(dict[str, system_union], ...),
        metrics=(list[metric_union], Field(default_factory=list)),
    )


def _union(configs: list[type[BaseModel]], tag: str) -> Any:
    if len(configs) == 1:
        return configs[0]
    return Annotated[Union[tuple(configs)], Field(discriminator=tag)]


# `Suite` is built at run time (see harness.suite.loader); this alias is for type hints only.
Suite = SuiteBase
