"""The metric plug-in point: a registered type turns (example, response) into named scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from harness.registry import Registry
from harness.types import Example, Response, Score

if TYPE_CHECKING:
    from harness.gateway import Gateway
    from harness.suite.model import Suite


@runtime_checkable
class Metric(Protocol):
    """`names` lists every score name the metric emits (recall@1, recall@5, ...)."""

    names: list[str]

    async def score(self, example: Example, response: Response) -> list[Score]: ...


class MetricConfig(BaseModel):
    """Fields every metric type has. Subclasses narrow `type` to a Literal."""

    model_config = ConfigDict(extra="forbid")

    type: str


@dataclass
class MetricContext:
    suite: "Suite"
    gateway: "Gateway"
    cache_dir: Path
    judge_model: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


MetricFactory = Callable[[Any, MetricContext], Metric]
METRIC_TYPES: Registry[MetricFactory] = Registry(
    "metric type", builtin="harness.metrics.builtin", entry_point_group="harness.metrics"
)


def metric_type(name: str, config: type[MetricConfig]) -> Callable[[MetricFactory], MetricFactory]:
    return METRIC_TYPES.register(name, config)


def load_metric_types() -> Registry[MetricFactory]:
    return METRIC_TYPES.loaded()


def failed_response_scores(metric: Metric, response: Response) -> list[Score]:
    """A system that produced no response gets `error` on every score, never a silent 0."""
    return [Score.failed(name, f"system error: {response.error}") for name in metric.names]
