"""The suite's `gate:` section, typed and strict like the rest of the suite file.

Part of the suite model, so it depends on pydantic and the core types only.

    gate:
      alpha: 0.05                 # Holm-adjusted p below this counts as significant
      require_significance: true  # a drop beyond max_drop fails only when significant
      rules:
        - {metric: exact_match, min: 0.5}           # absolute floor on the run's mean
        - {metric: faithfulness, max_drop: 0.05}    # at most 0.05 below the baseline
        - {metric: latency_s, system: "rag*", max_increase: 0.5, relative: true}  # +50%
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.types import infer_metric_info

GLOB_CHARS = set("*?[")


class GateRule(BaseModel):
    """One check for the (system, metric) pairs it matches. Give at least one threshold."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(..., min_length=1, description="Metric name or glob (e.g. '*_latency_s').")
    system: str = Field("*", min_length=1, description="System name or glob; '*' is every system.")
    min: float | None = Field(None, description="Fail when the run's mean is below this floor.")
    max: float | None = Field(None, description="Fail when the run's mean is above this ceiling.")
    max_drop: float | None = Field(
        None, ge=0, description="Fail when the mean fell more than this below the baseline (for higher-is-better metrics)."
    )
    max_increase: float | None = Field(
        None, ge=0, description="Fail when the mean rose more than this above the baseline (for lower-is-better metrics)."
    )
    relative: bool = Field(False, description="max_drop/max_increase are fractions of the baseline mean.")
    require_significance: bool | None = Field(
        None, description="Override the gate's require_significance for this rule."
    )

    @model_validator(mode="after")
    def _check(self) -> "GateRule":
        if all(v is None for v in (self.min, self.max, self.max_drop, self.max_increase)):
            raise ValueError("give at least one of min, max, max_drop, max_increase")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if self.relative and self.max_drop is None and self.max_increase is None:
            raise ValueError("relative applies to max_drop/max_increase; give one of them")
        if not GLOB_CHARS & set(self.metric):
            # by name: the suite's metric types are not known here; the gate checks declared
            # directions again against the run (a rule that checks nothing is an error there)
            better_up = infer_metric_info(self.metric).higher_is_better
            if self.max_drop is not None and not better_up:
                raise ValueError(f"{self.metric} is lower-is-better, so a drop is an improvement: use max_increase")
            if self.max_increase is not None and better_up:
                raise ValueError(f"{self.metric} is higher-is-better, so an increase is an improvement: use max_drop")
        return self

    @property
    def compares_to_baseline(self) -> bool:
        return self.max_drop is not None or self.max_increase is not None

    def label(self) -> str:
        parts = [f"{k} {v:g}" for k, v in (("min", self.min), ("max", self.max)) if v is not None]
        for key in ("max_drop", "max_increase"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key} {value:.0%}" if self.relative else f"{key} {value:g}")
        return ", ".join(parts)


class GateConfig(BaseModel):
    """How `harness gate` judges a run against a baseline."""

    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level for Holm-adjusted p-values.")
    require_significance: bool = Field(
        True, description="A drop beyond max_drop/max_increase fails only when it is also significant."
    )
    permutations: int = Field(10_000, ge=1000, le=1_000_000, description="Sign-flip permutations per comparison.")
    rules: list[GateRule] = Field(..., min_length=1)
