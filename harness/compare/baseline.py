"""Baseline files: a compact, committed record of a reference run's per-example scores.

The gate compares a pull request's run against this file instead of a run directory, so CI needs
no artefact from an earlier job: `results/baselines/<suite>.json` lives in the repository and is
updated (by `harness baseline save`) in the same pull request that intends to change results.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from typing import Any

from harness.errors import HarnessError
from harness.run import RunView
from harness.run.record import upgrade_system_config
from harness.run.scores import ScoreSet, scores_of
from harness.types import MetricInfo

DEFAULT_FOLDER = Path("results") / "baselines"
BASELINE_SCHEMA = "harness-baseline"
BASELINE_VERSION = 1


def default_path(suite_name: str) -> Path:
    return DEFAULT_FOLDER / f"{suite_name}.json"


def load(path: str | Path) -> ScoreSet:
    """A run directory or a baseline file, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return scores_of(RunView.open(path))
    if not path.is_file():
        raise HarnessError("no such run directory or baseline file", where=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HarnessError(f"not a baseline file (unreadable JSON: {error})", where=str(path)) from None
    if not isinstance(data, dict) or data.get("schema") != BASELINE_SCHEMA:
        raise HarnessError(f"not a baseline file (no \"schema\": \"{BASELINE_SCHEMA}\")", where=str(path))
    version = data.get("schema_version")
    if version != BASELINE_VERSION:
        raise HarnessError(
            f"baseline schema version {version} is not supported (this harness reads {BASELINE_VERSION}); "
            "re-save it with `harness baseline save`",
            where=str(path),
        )
    return from_baseline(data, str(path))


def require_complete(scores: ScoreSet, purpose: str = "a baseline") -> None:
    """Baselines and gates need finished runs, each pair scored once: a partial run would hide
    regressions as 'missing', and a doubled one would narrow every CI."""
    if scores.kind != "run":
        return
    if scores.status != "complete":
        raise HarnessError(
            f"the run is {scores.status}, not complete; finish it with `harness run --resume {scores.source}`",
            where=scores.source,
        )
    if scores.duplicates:
        raise HarnessError(
            f"cannot use it for {purpose}: samples.jsonl holds {scores.duplicates} duplicate (system, example) "
            "sample(s), written by two processes at once, so its counts and CIs are wrong; run the suite again "
            "into a new directory",
            where=scores.source,
        )


def save(run_path: str | Path, out: str | Path | None = None) -> Path:
    """Write the baseline for a complete run; returns the file written (atomically)."""
    scores = scores_of(RunView.open(run_path))
    require_complete(scores)
    from harness.run.record import now

    scores.created_at = now()
    scores.suite["path"] = _portable(scores.suite.get("path"))  # no /home/<you>/ in a committed file
    target = Path(out) if out else default_path(scores.suite_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(to_baseline(scores))
    temp = target.with_name(f".{target.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


def to_baseline(scores: ScoreSet) -> dict[str, Any]:
    """The baseline file's JSON (schema `harness-baseline`, version 1; `metric_info` added later
    and optional, so older files still load)."""
    return {
        "schema": BASELINE_SCHEMA,
        "schema_version": BASELINE_VERSION,
        "suite": scores.suite,
        "run": {"run_id": scores.run_id, "status": scores.status, "source": scores.source, "degraded": scores.degraded},
        "git": scores.git,
        "created_at": scores.created_at,
        "metrics": scores.metric_configs,
        "metric_info": {name: info.model_dump() for name, info in scores.metric_info.items()},
        "judge": scores.judge,
        "examples": scores.examples,
        "systems": {
            name: {
                "config": config,
                "examples": scores.seen.get(name, []),
                "scores": scores.scores.get(name, {}),
                "not_ok": scores.not_ok.get(name, {}),
            }
            for name, config in scores.systems.items()
        },
    }


def from_baseline(data: dict[str, Any], source: str) -> ScoreSet:
    """Rebuild a ScoreSet from a baseline file's JSON (see `to_baseline`)."""
    run = data.get("run") or {}
    systems = data.get("systems") or {}
    return ScoreSet(
        source=source,
        kind="baseline",
        run_id=run.get("run_id"),
        status=run.get("status"),
        suite=dict(data.get("suite") or {}),
        systems={name: upgrade_system_config(dict(entry.get("config") or {})) for name, entry in systems.items()},
        metric_configs=list(data.get("metrics") or []),
        metric_info={name: MetricInfo.model_validate(info) for name, info in (data.get("metric_info") or {}).items()},
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


def _portable(path: str | None) -> str | None:
    """The suite path relative to the working folder when it lies inside it."""
    if not path:
        return path
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def dumps(data: dict) -> str:
    """Indented JSON with each per-example map on one line: small, yet readable in a diff."""
    data = json.loads(json.dumps(data))  # a private copy: leaves are swapped for placeholders
    leaves: dict[str, str] = {}
    for system in data["systems"].values():
        for group in ("scores", "not_ok"):
            for metric, values in system[group].items():
                key = f"@@{len(leaves)}@@"
                leaves[key] = json.dumps(values, separators=(",", ":"))
                system[group][metric] = key
        key = f"@@{len(leaves)}@@"
        leaves[key], system["examples"] = json.dumps(system["examples"], separators=(",", ":")), key
    key = f"@@{len(leaves)}@@"
    leaves[key], data["examples"] = json.dumps(data["examples"], separators=(",", ":")), key
    text = json.dumps(data, indent=1)
    for key, value in leaves.items():
        text = text.replace(f'"{key}"', value, 1)
    return text + "\n"
