"""The scores of a run in one in-memory shape, per example: what compare, gate, baselines and
the pytest plug-in work on. Built from a run directory here, or from a baseline file (which is
this shape written to JSON, see harness.compare.baseline).

Besides the `ok` values per system, metric and example it keeps what tells whether two sets are
comparable: suite hashes, resolved system configs, metric and judge configs, a digest of every
example, and each metric's declared direction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.types import MetricInfo, infer_metric_info

ERROR_RATE = "error_rate"  # derived per sample: 1 when the system returned an error, else 0
ERROR_RATE_INFO = MetricInfo(higher_is_better=False, group="cost")


@dataclass
class ScoreSet:
    source: str
    kind: str  # "run" or "baseline"
    run_id: str | None
    status: str | None
    suite: dict[str, Any]  # name, content_hash, semantic_hash, path
    systems: dict[str, dict[str, Any]]  # resolved config per system
    metric_configs: list[dict[str, Any]] = field(default_factory=list)
    metric_info: dict[str, MetricInfo] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)  # example id -> content digest
    seen: dict[str, list[str]] = field(default_factory=dict)  # system -> example ids with a sample
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # system -> metric -> id -> value
    not_ok: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # system -> metric -> {undefined, error}
    created_at: str | None = None
    degraded: list[str] = field(default_factory=list)
    duplicates: int = 0

    @property
    def suite_name(self) -> str:
        return str(self.suite.get("name") or "?")

    def label(self) -> str:
        run = f"run {self.run_id[:8]}" if self.run_id else "run ?"
        return f"`{self.source}` ({run})"

    def info(self, metric: str) -> MetricInfo:
        """Declared direction/unit/group; the name rule for sets that did not record it."""
        if metric == ERROR_RATE:
            return ERROR_RATE_INFO
        return self.metric_info.get(metric) or infer_metric_info(metric)

    def higher_is_better(self, metric: str) -> bool:
        return self.info(metric).higher_is_better

    def metrics(self, system: str) -> list[str]:
        return list(self.scores.get(system, {}))

    def values(self, system: str, metric: str) -> dict[str, float]:
        return self.scores.get(system, {}).get(metric, {})

    def mean(self, system: str, metric: str) -> float | None:
        values = self.values(system, metric)
        return sum(values.values()) / len(values) if values else None

    def counts(self, system: str, metric: str) -> dict[str, int]:
        tally = self.not_ok.get(system, {}).get(metric, {})
        ok = len(self.values(system, metric))
        return {"ok": ok, "undefined": tally.get("undefined", 0), "error": tally.get("error", 0)}

    def add(self, system: str, example_id: str, scores: dict[str, Any]) -> None:
        """One sample's scores (status/value dicts)."""
        by_metric = self.scores.setdefault(system, {})
        tallies = self.not_ok.setdefault(system, {})
        for name, score in scores.items():
            values = by_metric.setdefault(name, {})
            status, value = score.get("status"), score.get("value")
            if status == "ok" and value is not None:
                values[example_id] = float(value)
            else:
                tally = tallies.setdefault(name, {})
                key = "undefined" if status == "undefined" else "error"
                tally[key] = tally.get(key, 0) + 1


def example_digest(example: dict[str, Any]) -> str:
    """Short content hash of an example, so an edited reference is noticed even under the same id."""
    return hashlib.sha256(json.dumps(example, sort_keys=True, default=str).encode()).hexdigest()[:16]


def suite_semantic_hash(path: str | None, content_hash: str | None) -> str | None:
    """Hash of the suite file without its `gate`, `description`, `decision` and `cost` (none
    changes what runs), so tuning the gate or the goals does not make every baseline
    incomparable. None unless the file is still the one the run used."""
    if not path or not content_hash:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if hashlib.sha256(text.encode()).hexdigest() != content_hash:
        return None
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(raw, dict):
        return None
    raw = {k: v for k, v in raw.items() if k not in ("gate", "description", "decision", "cost")}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def scores_of(view: Any) -> ScoreSet:
    """The ScoreSet of a run (a `RunView`), without re-running or re-scoring anything."""
    header = view.header
    suite = header.suite.model_dump()
    suite.setdefault("semantic_hash", suite_semantic_hash(suite.get("path"), suite.get("content_hash")))
    out = ScoreSet(
        source=str(view.path),
        kind="run",
        run_id=header.run_id,
        status=header.status,
        suite={k: suite.get(k) for k in ("name", "content_hash", "semantic_hash", "path")},
        systems={name: dict(config) for name, config in header.systems.items()},
        metric_configs=list(header.metrics),
        metric_info=dict(header.metric_info),
        judge=header.judge.model_dump(mode="json") | ({"endpoint": header.judge_endpoint} if header.judge_endpoint else {}),
        git=header.git.model_dump(),
        created_at=header.ended_at or header.started_at,
        degraded=list(header.degraded),
    )
    seen: dict[str, dict[str, None]] = {}
    for row in view.rows():
        system, example = row["system"], row["example"]
        example_id = str(example["id"])
        out.examples[example_id] = example_digest(example)
        seen.setdefault(system, {})[example_id] = None
        failed = bool((row.get("response") or {}).get("error"))
        scores = dict(row.get("scores") or {})
        scores.setdefault(ERROR_RATE, {"status": "ok", "value": 1.0 if failed else 0.0})
        out.add(system, example_id, scores)
    out.duplicates = view.duplicates
    out.seen = {system: list(ids) for system, ids in seen.items()}
    for system in seen:
        out.systems.setdefault(system, {})
    return out
