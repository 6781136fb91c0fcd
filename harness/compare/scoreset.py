"""One in-memory shape for "the scores of a run", read from a run directory or a baseline file.

Compare and gate work on this, so a baseline file is just a ScoreSet written to JSON: per-example
`ok` scores per system and metric, plus what is needed to tell whether two sets are comparable
(suite hash, resolved system configs, metric and judge configs, a digest of every example).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ERROR_RATE = "error_rate"  # derived per sample: 1 when the system returned an error, else 0
BASELINE_SCHEMA = "harness-baseline"
BASELINE_VERSION = 1


@dataclass
class ScoreSet:
    source: str
    kind: str  # "run" or "baseline"
    run_id: str | None
    status: str | None
    suite: dict[str, Any]  # name, content_hash, semantic_hash, path
    systems: dict[str, dict[str, Any]]  # resolved config per system
    metric_configs: list[dict[str, Any]] = field(default_factory=list)
    judge: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)  # example id -> content digest
    seen: dict[str, list[str]] = field(default_factory=dict)  # system -> example ids with a sample
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # system -> metric -> id -> value
    not_ok: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # system -> metric -> {undefined, error}
    created_at: str | None = None
    degraded: list[str] = field(default_factory=list)

    @property
    def suite_name(self) -> str:
        return str(self.suite.get("name") or "?")

    def label(self) -> str:
        run = f"run {self.run_id[:8]}" if self.run_id else "run ?"
        return f"`{self.source}` ({run})"

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

    def to_baseline(self) -> dict[str, Any]:
        """The baseline file's JSON (schema `harness-baseline`, version 1)."""
        return {
            "schema": BASELINE_SCHEMA,
            "schema_version": BASELINE_VERSION,
            "suite": self.suite,
            "run": {"run_id": self.run_id, "status": self.status, "source": self.source, "degraded": self.degraded},
            "git": self.git,
            "created_at": self.created_at,
            "metrics": self.metric_configs,
            "judge": self.judge,
            "examples": self.examples,
            "systems": {
                name: {
                    "config": config,
                    "examples": self.seen.get(name, []),
                    "scores": self.scores.get(name, {}),
                    "not_ok": self.not_ok.get(name, {}),
                }
                for name, config in self.systems.items()
            },
        }


def example_digest(example: dict[str, Any]) -> str:
    """Short content hash of an example, so an edited reference is noticed even under the same id."""
    return hashlib.sha256(json.dumps(example, sort_keys=True, default=str).encode()).hexdigest()[:16]


def suite_semantic_hash(path: str | None, content_hash: str | None) -> str | None:
    """Hash of the suite file without its `gate` and `description`, so tuning the gate does not
    make every baseline incomparable. None unless the file is still the one the run used."""
    if not path or not content_hash:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
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
    raw = {k: v for k, v in raw.items() if k not in ("gate", "description")}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def from_run(path: str | Path) -> ScoreSet:
    """Read a run directory (run.json + samples.jsonl) without re-running or re-scoring anything."""
    from harness.rundir import RunDir

    run = RunDir.open(Path(path))
    header = run.read_header()
    suite = dict(header.suite)
    suite.setdefault("semantic_hash", suite_semantic_hash(suite.get("path"), suite.get("content_hash")))
    out = ScoreSet(
        source=str(path),
        kind="run",
        run_id=header.run_id,
        status=header.status,
        suite={k: suite.get(k) for k in ("name", "content_hash", "semantic_hash", "path")},
        systems=dict(header.systems),
        metric_configs=list(header.metrics),
        judge=dict(header.judge),
        git=dict(header.git),
        created_at=header.ended_at or header.started_at,
        degraded=list(header.degraded),
    )
    seen: dict[str, dict[str, None]] = {}
    for row in run.iter_sample_dicts():
        system, example = row.get("system"), row.get("example") or {}
        example_id = example.get("id")
        if system is None or example_id is None:
            continue
        example_id = str(example_id)
        out.examples[example_id] = example_digest(example)
        seen.setdefault(system, {})[example_id] = None
        failed = bool((row.get("response") or {}).get("error"))
        scores = dict(row.get("scores") or {})
        scores.setdefault(ERROR_RATE, {"status": "ok", "value": 1.0 if failed else 0.0})
        _add_scores(out, system, example_id, scores)
    out.seen = {system: list(ids) for system, ids in seen.items()}
    for system in seen:
        out.systems.setdefault(system, {})
    return out


def _add_scores(out: ScoreSet, system: str, example_id: str, scores: dict[str, Any]) -> None:
    by_metric = out.scores.setdefault(system, {})
    tallies = out.not_ok.setdefault(system, {})
    for name, score in scores.items():
        values = by_metric.setdefault(name, {})
        values.pop(example_id, None)  # a repeated sample: the last one wins
        status, value = score.get("status"), score.get("value")
        if status == "ok" and value is not None:
            values[example_id] = float(value)
        else:
            tally = tallies.setdefault(name, {})
            key = "undefined" if status == "undefined" else "error"
            tally[key] = tally.get(key, 0) + 1


def from_baseline(data: dict[str, Any], source: str) -> ScoreSet:
    """Rebuild a ScoreSet from a baseline file's JSON (see `ScoreSet.to_baseline`)."""
    run = data.get("run") or {}
    systems = data.get("systems") or {}
    return ScoreSet(
        source=source,
        kind="baseline",
        run_id=run.get("run_id"),
        status=run.get("status"),
        suite=dict(data.get("suite") or {}),
        systems={name: dict(entry.get("config") or {}) for name, entry in systems.items()},
        metric_configs=list(data.get("metrics") or []),
        judge=dict(data.get("judge") or {}),
        git=dict(data.get("git") or {}),
        examples=dict(data.get("examples") or {}),
        seen={name: list(entry.get("examples") or []) for name, entry in systems.items()},
        scores={
            name: {m: {str(k): float(v) for k, v in vals.items()} for m, vals in (entry.get("scores") or {}).items()}
            for name, entry in systems.items()
        },
        not_ok={name: dict(entry.get("not_ok") or {}) for name, entry in systems.items()},
        created_at=data.get("created_at"),
        degraded=list(run.get("degraded") or []),
    )
