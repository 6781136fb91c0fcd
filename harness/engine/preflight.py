"""Every check `harness run` makes before its first call, shared with `harness validate`.

Suite, paths, dataset, models, metrics and systems are all checked and built here, and every
problem found is reported together, each with its location, as one HarnessError (exit 2). Nothing
is written: no run directory, no response cache (opened by `plan_run` once all checks pass), no
index or LoRA (those are built by the systems' `setup()`, which only the runner calls).

Errors are what would make the run fail or mean nothing; warnings (into RunPlan.warnings, then
run.json and the console, each with its counts) are what runs but deserves a look: train/test
leakage, test examples a system cannot serve well (no replay row, no reference passage), a
template the harness had to complete.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from harness.data.datasets import Dataset, load_dataset
from harness.errors import ConfigError, HarnessError
from harness.gateway import Gateway
from harness.gateway.cache import default_cache_dir
from harness.gateway.scripted import register_script
from harness.data.leakage import check_leakage
from harness.engine.preflight_checks import gate_problems, hosted_models, model_name_problems, out_problems, provider_problems
from harness.metrics.base import Metric, MetricContext, as_metric, load_metric_types
from harness.suite.loader import load_suite
from harness.suite.model import Suite
from harness.files.paths import suite_path_problems
from harness.systems import System, SystemContext, as_system, load_system_kinds
from harness.types import Example
from harness.engine.updates import UpdatePhase, add_update_phase


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
    tests: dict[str, Sequence[Example]] = field(default_factory=dict)  # a system's own examples (the updated phase)
    update: UpdatePhase | None = None  # the suite's `updates:`, as `<name>@updated` systems


def default_run_dir(suite_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / "runs" / f"{stamp}-{suite_name}-{uuid.uuid4().hex[:6]}"


def preflight(suite_path: str | Path, options: RunOptions) -> RunPlan:
    """The run's plan with every system and metric built, or a HarnessError listing every problem.
    The gateway has no response cache yet: opening it would write to the cache folder."""
    suite = load_suite(suite_path, model=options.model, judge_model=options.judge_model)
    where = str(suite_path)
    selected = _select_systems(suite, options.systems)
    if problems := suite_path_problems(suite):
        raise _problems(problems, where)  # every later read would trip on these paths
    problems = _script_problems(suite)
    for name, spec in suite.scripted_models.items():
        register_script(name, spec)
    problems += model_name_problems(suite, selected) + _answer_schema_problems(suite)

    dataset: Dataset | None = None
    leakage = None
    try:
        dataset = load_dataset(suite)
    except HarnessError as error:
        problems += located(error)
    else:
        leakage = check_leakage(dataset.test, dataset.train)
        if options.exclude_leaked:
            dataset.test = leakage.exclude(dataset.test)
        if options.limit:
            dataset.test = dataset.test[: options.limit]

    cache_dir = Path(options.cache_dir) if options.cache_dir else default_cache_dir()
    settings = suite.settings
    gateway = Gateway(
        cache=None,
        concurrency=settings.concurrency,
        concurrency_per_provider=settings.concurrency_per_provider,
        timeout_s=settings.timeout_s,
        retry=settings.retry,
        seed=settings.seed,
    )
    problems += provider_problems(suite, selected)
    try:
        gateway.check_models(hosted_models(suite, selected))
    except HarnessError as error:
        problems += located(error)

    out = Path(options.out) if options.out else default_run_dir(suite.name)
    problems += out_problems(out) if options.out else []  # `run --out` (and the API's out=) only
    metrics, metric_problems = _build_metrics(suite, gateway, cache_dir, out)
    problems += metric_problems or gate_problems(suite, [n for metric in metrics for n in metric.names])
    systems: dict[str, System] = {}
    if dataset is not None:  # systems are built from the data (few-shot pools, checks on ids)
        systems, system_problems = _build_systems(suite, selected, dataset, gateway, cache_dir, options)
        problems += system_problems
    if problems or dataset is None or leakage is None:
        raise _problems(problems, where)

    warnings = [m] if (m := leakage.message()) else []
    warnings += _answer_schema_warnings(suite, metrics)
    warnings += [w for metric in metrics for w in metric.warnings]
    warnings += [w for system in systems.values() for w in system.warnings]
    warnings = list(dict.fromkeys(warnings))
    plan = RunPlan(suite, dataset, gateway, systems, metrics, options, cache_dir, out, leakage.to_json(), warnings)
    try:
        plan.update = add_update_phase(plan)
    except HarnessError as error:
        raise _problems(located(error), where) from None
    return plan


def located(error: HarnessError, default: str | None = None) -> list[str]:
    """One line per problem, each starting with where it is (`default` when the error names no place)."""
    where = error.where or default
    lines = error.problems or [str(error.args[0])]
    if not where:
        return list(lines)
    return [line if line.startswith(where) else f"{where}: {line}" for line in lines]


def _problems(problems: list[str], where: str) -> HarnessError:
    unique = list(dict.fromkeys(problems))
    return ConfigError(f"{len(unique)} problem(s); nothing was run", where=where, problems=unique)


def _select_systems(suite: Suite, wanted: list[str] | None) -> list[str]:
    if not wanted:
        return list(suite.systems)
    unknown = [w for w in wanted if w not in suite.systems]
    if unknown:
        raise ConfigError(
            f"--systems: no system named {', '.join(map(repr, unknown))} (known: {', '.join(suite.systems)})"
        )
    return [n for n in suite.systems if n in wanted]


def _script_problems(suite: Suite) -> list[str]:
    """A scripted rule whose pattern does not compile would fail every call it is tried on."""
    problems = []
    for name, spec in suite.scripted_models.items():
        for index, rule in enumerate(spec.rules):
            try:
                re.compile(rule.match)
            except re.error as error:
                problems.append(f"scripted_models.{name}.rules[{index}].match: not a regular expression ({error})")
    return problems


def _answer_schema_problems(suite: Suite) -> list[str]:
    """The answer schema is sent to providers and used by metrics: it must be a valid JSON Schema
    of its draft (`$schema`, else answer_format.draft, else 2020-12)."""
    fmt = suite.answer_format
    if fmt is None or not isinstance(fmt.json_schema, (dict, bool)):
        return []
    from harness.metrics.schema_validator import SchemaProblem, compile_schema

    try:
        compile_schema(fmt.json_schema, draft=fmt.draft)
    except SchemaProblem as error:
        return [f"answer_format.schema: {error}"]
    return []


def _answer_schema_warnings(suite: Suite, metrics: list[Metric]) -> list[str]:
    """Keywords of another draft in an answer schema without `$schema`, unless a json_schema
    metric already says so about the same schema."""
    fmt = suite.answer_format
    if fmt is None or not isinstance(fmt.json_schema, dict):
        return []
    from harness.metrics.schema_dialect import schema_warnings

    said = [w for metric in metrics for w in metric.warnings]
    return [f"answer_format.schema: {w}" for w in schema_warnings(fmt.json_schema, fmt.draft)
            if not any(m.endswith(w) for m in said)]


def _build_metrics(suite: Suite, gateway: Gateway, cache_dir: Path, out: Path) -> tuple[list[Metric], list[str]]:
    context = MetricContext(
        suite=suite,
        gateway=gateway,
        cache_dir=cache_dir,
        judge_model=suite.judge.model,
        extras={"judge_audit_path": out / "judge_audit.jsonl"},
    )
    registry = load_metric_types()
    metrics, problems = [], []
    for index, config in enumerate(suite.metrics):
        try:
            metrics.append(as_metric(registry.get(config.type).factory(config, context)))
        except HarnessError as error:
            problems += located(error, f"metrics[{index}] ({config.type})")
    return metrics, problems


def _build_systems(
    suite: Suite, selected: list[str], dataset: Dataset, gateway: Gateway, cache_dir: Path, options: RunOptions
) -> tuple[dict[str, System], list[str]]:
    """Build (never set up) each selected system. One `extras` dict is shared, so a corpus read for
    one system is reused (and its problems reported once) by the others."""
    kinds = load_system_kinds()
    extras: dict[str, Any] = {"progress": options.progress, "dataset_ids": dataset.known_ids}
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
            extras=extras,
        )
        try:
            systems[name] = as_system(kinds.get(config.kind).factory(config, context))
        except HarnessError as error:
            problems += located(error, f"systems.{name}")
    return systems, problems
