"""Synthetic run directories and score sets: for tests, the calibration benchmark and demos.

Writing through RunWriter and Sample keeps them honest: they are read back by the same code that
reads a real run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from harness.run.scores import ScoreSet

# values: system -> example id -> metric -> value (None: undefined; "error": an error score)
Values = Mapping[str, Mapping[str, Mapping[str, Any]]]


def write_run(
    path: str | Path,
    values: Values,
    *,
    suite: Mapping[str, Any] | None = None,
    systems: Mapping[str, Mapping[str, Any]] | None = None,
    references: Mapping[str, str] | None = None,
    failed: Mapping[str, set[str]] | None = None,
    status: str = "complete",
    run_id: str = "run0",
) -> Path:
    """A run directory with the given scores; `failed[system]` lists examples whose response errored."""
    from harness.run import RunHeader, RunWriter, Sample
    from harness.types import Example, Response, Score

    suite = dict(suite or {"name": "synthetic", "path": None, "content_hash": "hash0"})
    configs = {name: dict((systems or {}).get(name, {"kind": "prompt", "model": "scripted/echo"})) for name in values}
    header = RunHeader(run_id=run_id, suite=suite, systems=configs, status=status)  # type: ignore[arg-type]
    run = RunWriter.create(Path(path), header)
    for system, examples in values.items():
        for example_id, scores in examples.items():
            error = "boom" if example_id in (failed or {}).get(system, set()) else None
            out = {}
            for metric, value in scores.items():
                if value is None:
                    out[metric] = Score.undefined(metric, "n/a")
                elif value == "error" or error:
                    out[metric] = Score.failed(metric, "failed")
                else:
                    out[metric] = Score.ok(metric, value)
            reference = (references or {}).get(example_id, "a")
            example = Example(id=example_id, input=f"question {example_id}", reference=reference)
            run.append(Sample(system=system, example=example, response=Response(error=error), scores=out))
    run.close()
    return run.path


def score_set(
    values: Mapping[str, Mapping[str, Mapping[str, float]]],
    *,
    systems: Mapping[str, Mapping[str, Any]] | None = None,
    suite_hash: str = "hash0",
    run_id: str = "run0",
) -> ScoreSet:
    """An in-memory score set: values is system -> metric -> example id -> value (all ok)."""
    names = list(values)
    return ScoreSet(
        source=f"memory:{run_id}",
        kind="run",
        run_id=run_id,
        status="complete",
        suite={"name": "synthetic", "content_hash": suite_hash, "semantic_hash": None, "path": None},
        systems={n: dict((systems or {}).get(n, {"kind": "prompt"})) for n in names},
        seen={n: list(dict.fromkeys(i for m in values[n].values() for i in m)) for n in names},
        scores={n: {m: dict(v) for m, v in values[n].items()} for n in names},
    )
