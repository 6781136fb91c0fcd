"""The suite's `decision:` and `cost:` sections: what `harness decide` should weigh and charge.

Part of the suite model, so pydantic and the core types only. Neither section changes what runs:
both are recorded in run.json and can be overridden at analysis time (`harness decide --suite`).

    decision:
      base: prompt                  # roles, when the kinds and shared settings do not say it
      rag: rag
      correctness: contains_answer  # the metric that says an answer is right
      format: json_schema           # the metric that says the format is right
      weights: {contains_answer: 2, json_schema: 1}
      must: ["json_schema >= 0.95", "latency_p95 <= 1.5 s"]
    cost:
      prices:
        local/gemma-3-270m: {usd_per_hour: 0.10}      # a machine you run, by model or system name
        openai/gpt-4o-mini: {usd_per_1m_input_tokens: 0.15, usd_per_1m_output_tokens: 0.60}
      training_usd_per_hour: 0.10
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ROLES = ("base", "few_shot", "rag", "finetuned", "hybrid", "oracle")
# Must-have names that are not metric means: latency percentiles and cost per 1,000 queries.
DERIVED = {"latency_p50": "s", "latency_p95": "s", "cost_per_1k": "usd"}
_REQUIREMENT = re.compile(
    r"^\s*(?P<metric>[A-Za-z0-9_.@\-]+)\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d*)?(?:[eE]-?\d+)?)\s*(?P<unit>ms|s|%)?\s*$"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Requirement(_Strict):
    """A must-have: `metric op value`, on the system's mean (or latency_p50/p95, cost_per_1k)."""

    metric: str = Field(..., min_length=1)
    op: Literal[">=", "<=", ">", "<"]
    value: float

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found = _REQUIREMENT.match(value)
        if not found:
            raise ValueError(f"{value!r}: write a must-have as 'metric >= number' (or <=, >, <), e.g. 'json_schema >= 0.95'")
        number = float(found["value"])
        unit = found["unit"]
        if unit == "ms":
            number /= 1000.0
        elif unit == "%":
            number /= 100.0
        return {"metric": found["metric"], "op": found["op"], "value": number}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        text = {"type": "string", "description": "'metric >= number' (or <=, >, <), e.g. 'json_schema >= 0.95'."}
        return {"anyOf": [text, schema]}

    def holds(self, observed: float) -> bool:
        return {">=": observed >= self.value, "<=": observed <= self.value,
                ">": observed > self.value, "<": observed < self.value}[self.op]

    @property
    def wants_high(self) -> bool:
        return self.op in (">=", ">")

    def label(self) -> str:
        unit = " s" if DERIVED.get(self.metric) == "s" else ""
        return f"{self.metric} {self.op} {self.value:g}{unit}"


class DecisionConfig(_Strict):
    """Roles (system names) and the goals the recommendation weighs. Every field is optional."""

    base: str | None = Field(None, description="The plain prompt system the effects are measured against.")
    few_shot: str | None = None
    rag: str | None = None
    finetuned: str | None = None
    hybrid: str | None = None
    oracle: str | None = Field(None, description="Reference documents pasted in: tells retrieval from generation problems.")
    candidates: list[str] | None = Field(
        None, description="Systems the recommendation chooses from (default: the role systems except the oracle)."
    )
    correctness: str | None = Field(None, description="Metric that says an answer is right (default: the first correctness metric).")
    correct_at: float = Field(0.5, ge=0.0, le=1.0, description="A correctness value at or above this counts as right.")
    format: str | None = Field(None, description="Metric that says the format is right (default: json_schema, json_valid, ...).")
    weights: dict[str, float] = Field(
        default_factory=dict, description="Metric weights for ranking candidates (default: correctness 1, format 1)."
    )
    must: list[Requirement] = Field(
        default_factory=list, description="Must-haves such as 'json_schema >= 0.95' or 'latency_p95 <= 1.5 s'."
    )
    knowledge_tags: list[str] | None = Field(None, description="Tags of fact questions (default: tags named like fact/knowledge).")
    behaviour_tags: list[str] | None = Field(None, description="Tags of format/style questions (default: format/style/tone).")

    @model_validator(mode="after")
    def _positive_weights(self) -> "DecisionConfig":
        bad = [name for name, weight in self.weights.items() if not weight > 0]
        if bad:
            raise ValueError(f"weights must be greater than 0: {', '.join(bad)}")
        return self

    def roles(self) -> dict[str, str]:
        return {role: name for role in ROLES if (name := getattr(self, role)) is not None}

    def named_systems(self) -> dict[str, str]:
        """Where each system name appears (for checking them against the suite's systems)."""
        named = {f"decision.{role}": name for role, name in self.roles().items()}
        named.update({f"decision.candidates[{i}]": name for i, name in enumerate(self.candidates or [])})
        return named


class Price(_Strict):
    """How one system or model is charged: per token, per query, or per hour of a machine you run."""

    usd_per_1m_input_tokens: float | None = Field(None, ge=0)
    usd_per_1m_output_tokens: float | None = Field(None, ge=0)
    usd_per_query: float | None = Field(None, ge=0)
    usd_per_hour: float | None = Field(
        None, ge=0, description="A self-hosted machine: cost per query = price x seconds per query / 3600 / concurrent_requests."
    )
    concurrent_requests: int = Field(1, gt=0, description="Requests the machine serves at once (usd_per_hour only).")

    @model_validator(mode="after")
    def _one_way(self) -> "Price":
        ways = [name for name, given in (
            ("tokens", self.usd_per_1m_input_tokens is not None or self.usd_per_1m_output_tokens is not None),
            ("usd_per_query", self.usd_per_query is not None),
            ("usd_per_hour", self.usd_per_hour is not None),
        ) if given]
        if len(ways) != 1:
            raise ValueError("give one way to charge: usd_per_1m_input/output_tokens, usd_per_query or usd_per_hour")
        return self


class CostConfig(_Strict):
    """Prices for the cost part of `harness decide` (default: litellm's recorded prices)."""

    prices: dict[str, Price] = Field(
        default_factory=dict, description="By system name or model name; a system's own entry wins over its model's."
    )
    training_usd_per_hour: float | None = Field(None, ge=0, description="The machine that trains LoRAs.")
    indexing_usd_per_hour: float | None = Field(None, ge=0, description="The machine that builds retrieval indexes.")
    one_off_usd: dict[str, float] = Field(
        default_factory=dict, description="Other one-off costs per system, e.g. a hosted fine-tuning job's bill."
    )
    horizon_months: float = Field(12.0, gt=0, description="Months over which one-off costs are paid back (break-even).")

    @model_validator(mode="after")
    def _non_negative(self) -> "CostConfig":
        bad = [name for name, usd in self.one_off_usd.items() if usd < 0]
        if bad:
            raise ValueError(f"one_off_usd must not be negative: {', '.join(bad)}")
        return self


def suite_name_problems(decision: DecisionConfig | None, cost: CostConfig | None,
                        systems: dict[str, Any]) -> list[str]:
    """System names in `decision:` and `cost:` that the suite does not declare."""
    problems = []
    known = ", ".join(systems)
    for where, name in (decision.named_systems() if decision else {}).items():
        if name not in systems:
            problems.append(f"{where}: no system named {name!r} (known: {known})")
    if cost is not None:
        models = {str(getattr(config, "model", None)) for config in systems.values() if getattr(config, "model", None)}
        for name in cost.prices:
            if name not in systems and name not in models:
                problems.append(f"cost.prices.{name}: neither a system nor a model of this suite "
                                f"(systems: {known}; models: {', '.join(sorted(models)) or 'none'})")
        for name in cost.one_off_usd:
            if name not in systems:
                problems.append(f"cost.one_off_usd.{name}: no system named {name!r} (known: {known})")
    return problems
