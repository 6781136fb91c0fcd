"""Baseline files: a compact, committed record of a reference run's per-example scores.

The gate compares a pull request's run against this file instead of a run directory, so CI needs
no artefact from an earlier job: `results/baselines/<suite>.json` lives in the repository and is
updated (by `harness baseline save`) in the same pull request that intends to change results.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.compare.scoreset import BASELINE_SCHEMA, BASELINE_VERSION, ScoreSet, from_baseline, from_run
from harness.errors import HarnessError

DEFAULT_FOLDER = Path("results") / "baselines"


def default_path(suite_name: str) -> Path:
    return DEFAULT_FOLDER / f"{suite_name}.json"


def load(path: str | Path) -> ScoreSet:
    """A run directory or a baseline file, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return from_run(path)
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


def require_complete(scores: ScoreSet) -> None:
    """Baselines and gates need finished runs: a partial run would hide regressions as 'missing'."""
    if scores.kind == "run" and scores.status != "complete":
        raise HarnessError(
            f"the run is {scores.status}, not complete; finish it with `harness run --resume {scores.source}`",
            where=scores.source,
        )


def save(run_path: str | Path, out: str | Path | None = None) -> Path:
    """Write the baseline for a complete run; returns the file written (atomically)."""
    scores = from_run(run_path)
    require_complete(scores)
    from harness.rundir import now

    scores.created_at = now()
    scores.suite["path"] = _portable(scores.suite.get("path"))  # no /home/<you>/ in a committed file
    target = Path(out) if out else default_path(scores.suite_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(scores.to_baseline())
    temp = target.with_name(f".{target.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


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
