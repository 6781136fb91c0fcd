"""Everything checked before a run directory exists: suite, dataset, systems, metrics, API keys.

Bad input fails here, with exit code 2 and no half-made run directory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.datasets import Dataset, load_dataset
from harness.errors import ConfigError, HarnessError
from harness.gateway import Gateway
from harness.gateway.cache import ResponseCache, default_cache_dir
from harness.gateway.scripted import register_script
from harness.leakage import check_leakage
from harness.metrics.base import Metric, MetricContext, load_metric_types
from harness.suite.loader import load_suite
from harness.suite.model import Suite
from harness.systems import System, SystemContext, load_system_kinds, with_defaults
from harness.types import Example


@dataclass
class RunOptions:
    out: Path | None = None
    limit: int | None = None
    systems: list[str] | None = None
    use_cache: bool = True
    model: str | None = None
    judge_model: str | None = None
    cache_dir: Path | None = None
    progress: bool = True
    exclude_leaked: bool = False
    reports: bool = True

    def recorded(self) -> dict[str, Any]:
        """The options a resume must reuse to finish the same run."""
        return {
            "limit": self.limit,
            "systems": self.systems,
            "model": self.model,
            "judge_model": self.judge_model,
            "exclude_leaked": self.exclude_leaked,
        }


@dataclass
class RunPlan:
    suite: Suite
    dataset: Dataset
    gateway: Gateway
    systems: dict[str, System]
    metrics: list[Metric]
    options: RunOptions
    cache_dir: Path
    out: Path
    leakage: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    tests: dict[str, list[Example]] = field(default_factory=dict)  # a system's own examples (the updated phase)


def default_run_dir(suite_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / "runs" / f"{stamp}-{suite_name}-{uuid.uuid4().hex[:6]}"


def plan_run(suite_path: str | Path, options: RunOptions) -> RunPlan:
    suite = load_suite(suite_path, model=options.model, judge_model=options.judge_model)
    for name, spec in suite.scripted_models.items():
        register_script(name, spec)
    dataset = load_dataset(suite)
    leakage = check_leakage(dataset.test, dataset.train)
    if options.exclude_leaked:
        dataset.test = leakage.exclude(dataset.test)
    if options.limit:
        dataset.test = dataset.test[: options.limit]
    selected = _select_systems(suite, options.systems)
    cache_dir = Path(options.cache_dir) if options.cache_dir else default_cache_dir()
    settings = suite.settings
    gateway = Gateway(
        cache=ResponseCache.in_dir(cache_dir) if options.use_cache else None,
        concurrency=settings.concurrency,
        concurrency_per_provider=settings.concurrency_per_provider,
        timeout_s=settings.timeout_s,
        retry=settings.retry,
        seed=settings.seed,
    )
    models = {m for n in selected if (m := getattr(suite.systems[n], "model", None))}
    if suite.judge.model:
        models.add(suite.judge.model)
    gateway.check_models(models)
    kinds = load_system_kinds()
    systems: dict[str, System] = {}
    problems: list[str] = []
    for name in selected:
        config = suite.systems[name]
        context = SystemContext(
            name=name,
            suite=suite,
            gateway=gateway,
            train=dataset.train,
            test=dataset.test,
            cache_dir=cache_dir,
            extras={"progress": options.progress},
        )
        try:
            systems[name] = with_defaults(kinds.get(config.kind).factory(config, context))
        except HarnessError as error:
            problems.append(str(error))
    if problems:
        raise ConfigError("systems cannot be built", problems=problems)
    out = Path(options.out) if options.out else default_run_dir(suite.name)
    metric_context = MetricContext(
        suite=suite,
        gateway=gateway,
        cache_dir=cache_dir,
        judge_model=suite.judge.model,
        extras={"judge_audit_path": out / "judge_audit.jsonl"},
    )
    registry = load_metric_types()
    metrics = [registry.get(m.type).factory(m, metric_context) for m in suite.metrics]
    warnings = [m] if (m := leakage.message()) else []
    warnings += dict.fromkeys(w for system in systems.values() for w in system.warnings)
    return RunPlan(suite, dataset, gateway, systems, metrics, options, cache_dir, out, leakage.to_json(), warnings)


def _select_systems(suite: Suite, wanted: list[str] | None) -> list[str]:
    if not wanted:
        return list(suite.systems)
    unknown = [w for w in wanted if w not in suite.systems]
    if unknown:
        raise ConfigError(
            f"--systems: no system named {', '.join(map(repr, unknown))} (known: {', '.join(suite.systems)})"
        )
    return [n for n in suite.systems if n in wanted]
