"""The metric plug-in point: a registered type turns (example, response) into named scores."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

from pydantic import BaseModel, ConfigDict

from harness.registry import Registry
from harness.types import Example, MetricInfo, Response, Score, infer_metric_info

if TYPE_CHECKING:
    from harness.gateway import Gateway
    from harness.suite.model import Suite


@runtime_checkable
class Metric(Protocol):
    """`names` lists every score name the metric emits (recall@1, recall@5, ...).

    The runner bounds each score by `settings.scoring_timeout_s` with a timer on the event loop.
    A timer stops only code that waits: a metric that never waits, and does work linear in the
    output, may set a class attribute `bounded = True` to be scored without one (read with
    getattr, so duck-typed plug-ins need not define it); one that bounds its own heavy work does
    the same (the regex and json_schema metrics: their patterns, see `bounded_regex`).
    """

    names: list[str]
    group: str = "quality"
    warnings: Sequence[str] = ()
    """Problems found while building the metric that do not stop the run (shown before it)."""

    async def score(self, example: Example, response: Response) -> list[Score]: ...

    def info(self, name: str) -> MetricInfo:
        """Direction, unit and group of one of `names`; metric types override what differs."""
        return MetricInfo(group=self.group)  # type: ignore[arg-type]


class ScoringTimeout(Exception):
    """Scoring ran past its time limit; the message starts "scoring timed out after N s"."""

    def __init__(self, limit_s: float, what: str = ""):
        super().__init__(f"scoring timed out after {limit_s:g} s" + (f": {what}" if what else ""))
        self.limit_s = limit_s


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


DEFAULT_SCORING_TIMEOUT_S = 120.0  # settings.scoring_timeout_s when a suite does not set it


def scoring_limit(context: MetricContext | None) -> float:
    """The suite's `settings.scoring_timeout_s` (its default without a suite: a metric built alone)."""
    settings = getattr(getattr(context, "suite", None), "settings", None)
    limit = getattr(settings, "scoring_timeout_s", None)
    return float(limit) if isinstance(limit, (int, float)) else DEFAULT_SCORING_TIMEOUT_S


MetricFactory = Callable[[Any, MetricContext], Metric]
METRIC_TYPES: Registry[MetricFactory] = Registry(
    "metric type", builtin="harness.metrics.builtin", entry_point_group="harness.metrics"
)


def metric_type(name: str, config: type[MetricConfig]) -> Callable[[MetricFactory], MetricFactory]:
    return METRIC_TYPES.register(name, config)


def load_metric_types() -> Registry[MetricFactory]:
    return METRIC_TYPES.loaded()


class _Defaults(Metric):
    """A plug-in metric that does not subclass `Metric`: it declared no direction, so the name
    rule applies; the only place its optional attributes are looked up by name."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.names = list(inner.names)
        self.warnings = list(getattr(inner, "warnings", ()))

    async def score(self, example: Example, response: Response) -> list[Score]:
        return await self.inner.score(example, response)

    def info(self, name: str) -> MetricInfo:
        return infer_metric_info(name)


def as_metric(metric: Any) -> Metric:
    """The metric itself when it subclasses the protocol, else a wrapper with the defaults."""
    return metric if isinstance(metric, Metric) else _Defaults(metric)


def metric_infos(metrics: list[Metric]) -> dict[str, MetricInfo]:
    """Every score name of these metrics with its declared info."""
    return {name: metric.info(name) for metric in metrics for name in metric.names}


def finite_or_error(name: str, value: float | None, **detail: object) -> Score:
    """Score.ok when the value is a finite number, else an `error` score saying why (never NaN)."""
    if value is None:
        return Score.failed(name, "metric produced no value", **detail)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Score.failed(name, f"metric produced a non-number: {value!r}", **detail)
    if not math.isfinite(number):
        return Score.failed(name, f"metric produced {number} (not a finite number)", **detail)
    return Score.ok(name, number, **detail)


def failed_response_scores(metric: Metric, response: Response) -> list[Score]:
    """A system that produced no response gets `error` on every score, never a silent 0."""
    return [Score.failed(name, f"system error: {response.error}") for name in metric.names]
