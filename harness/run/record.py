"""The run record's types: the header (run.json) and one sample (a line of samples.jsonl).

Everything after `harness run` (reports, compare, gate, notebooks, the viewer) reads these
through `RunView`; nothing else parses the files. Version 2 types the header's parts and records
each metric's direction and unit; version-1 headers are upgraded on read (`upgrade_header`).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.suite.model import JudgeConfig, Settings
from harness.types import Example, MetricInfo, Response, Score, infer_metric_info

SCHEMA_VERSION = 2
RunStatus = Literal["running", "complete", "interrupted", "failed"]


def now() -> str:
    """UTC time to the second (ISO 8601); made once per second, as every sample asks for it."""
    global _last
    second = int(time.time())
    if second != _last[0]:
        _last = (second, datetime.fromtimestamp(second, timezone.utc).isoformat(timespec="seconds"))
    return _last[1]


_last: tuple[int, str] = (-1, "")


class Record(BaseModel):
    """Tolerant of fields added by newer harness versions: a reader never refuses a newer run
    for a key it does not know."""

    model_config = ConfigDict(extra="allow")


class SuiteInfo(Record):
    name: str = "?"
    description: str | None = None
    path: str | None = None
    content_hash: str | None = None


class DatasetInfo(Record):
    n_test: int | None = None
    n_train: int | None = None
    content_hash: str | None = None


class GitInfo(Record):
    commit: str | None = None
    dirty: bool | None = None


class RunCounts(Record):
    planned: int = 0
    done: int = 0
    errors: int = 0


class RecordedOptions(Record):
    """The command-line choices a resume must reuse to finish the same run."""

    limit: int | None = None
    systems: list[str] | None = None
    model: str | None = None
    judge_model: str | None = None
    exclude_leaked: bool = False


class RunHeader(BaseModel):
    """run.json. `systems` and `metrics` hold the resolved configs as plain JSON: their types
    come from the registries (plug-ins included), which a reader must not need to import."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = SCHEMA_VERSION
    run_id: str
    suite: SuiteInfo = Field(default_factory=SuiteInfo)
    dataset: DatasetInfo = Field(default_factory=DatasetInfo)
    leakage: dict[str, Any] = Field(default_factory=dict)
    git: GitInfo = Field(default_factory=GitInfo)
    environment: dict[str, str] = Field(default_factory=dict, description="Python and package versions.")
    systems: dict[str, dict[str, Any]] = Field(default_factory=dict)
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    metric_info: dict[str, MetricInfo] = Field(
        default_factory=dict, description="Per score name: which way is better, unit, group."
    )
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    judge_endpoint: dict[str, Any] | None = Field(None, description="Where judge calls go (never a secret).")
    settings: Settings = Field(default_factory=Settings)
    options: RecordedOptions = Field(default_factory=RecordedOptions)
    executor: dict[str, Any] | None = Field(None, description="What ran the work (`kind`, its settings).")
    started_at: str = Field(default_factory=now)
    ended_at: str | None = None
    status: RunStatus = "running"
    counts: RunCounts = Field(default_factory=RunCounts)
    artifacts: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Files a system built for this run (LoRAs), on this machine."
    )
    warnings: list[str] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)
    decision: dict[str, Any] | None = Field(None, description="The suite's `decision:` section, for `harness decide`.")
    cost: dict[str, Any] | None = Field(None, description="The suite's `cost:` section, for `harness decide`.")
    updates: dict[str, Any] | None = Field(
        None, description="The updated phase: variants (name -> original), changed and unchanged example ids, corpus."
    )

    def info(self, metric: str) -> MetricInfo:
        """The metric's declared info; the name rule for runs that did not record it."""
        return self.metric_info.get(metric) or infer_metric_info(metric)

    def kind(self, system: str) -> str:
        return str(self.systems.get(system, {}).get("kind", "unknown"))

    def unusable(self) -> list[str]:
        """Why the numbers of this run should not be used (empty when they can): too many
        samples failed, or a judge broke. Everything is still written; `harness run` exits 3."""
        reasons = []
        done, errors, limit = self.counts.done, self.counts.errors, self.settings.max_error_rate
        if done and errors / done > limit:
            reasons.append(
                f"{errors} of {done} samples failed ({errors / done:.0%}), above settings.max_error_rate "
                f"{limit:.0%}; the reasons are in samples.jsonl and the report"
            )
        reasons += self.degraded
        return reasons


class Sample(BaseModel):
    """One line of samples.jsonl: a system's response to an example, with its scores."""

    system: str
    example: Example
    response: Response
    scores: dict[str, Score] = Field(default_factory=dict)
    finished_at: str | None = None


def upgrade_system_config(config: dict[str, Any]) -> dict[str, Any]:
    """Version-1 names in a recorded system config: `adapter_key` is now `lora_key`."""
    if "adapter_key" in config:
        config = dict(config)
        config["lora_key"] = config.pop("adapter_key")
    return config


def upgrade_header(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 run.json as a version-2 one: the Python version moved out of settings, LoRA
    keys renamed, the git/suite/dataset dicts typed. Metric info stays empty (inferred by name)."""
    data = dict(data)
    if int(data.get("schema_version", 1)) >= 2:
        return data
    settings = dict(data.get("settings") or {})
    python = settings.pop("python", None)
    data["settings"] = settings
    environment = dict(data.pop("packages", None) or {})
    if python:
        environment["python"] = str(python)
    data["environment"] = environment
    data["systems"] = {name: upgrade_system_config(dict(config)) for name, config in (data.get("systems") or {}).items()}
    data["schema_version"] = SCHEMA_VERSION
    data["upgraded_from"] = 1
    return data
