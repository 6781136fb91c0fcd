"""A run directory as the rows the store keeps, read through `RunView` (the one reader).

One pass over the samples gives the per-sample rows (scores with their status, tags, latency,
tokens, cost; of the texts only the start of each input, for lists); the summary rows come from `RunView.summary()`, so the store
shows the same means and CIs as report.md. Score statuses follow the run tally: `ok` needs a
value, anything not `ok` or `undefined` counts as `error`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from harness.run import RunView
from harness.run.headline import headline_of
from harness.run.scores import example_digest
from harness.run.summary import SUMMARY
from harness.run.writer import HEADER, SAMPLES


# The fields of the per-sample tuples, in order, by table: inserts name them, so a column added
# or moved in schema.py cannot shift a value into another column.
PER_SAMPLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "examples": ("run_id", "example_id", "position", "digest", "tags", "snippet"),
    "example_tags": ("run_id", "tag", "example_id"),
    "samples": ("run_id", "system", "example_id", "failed", "cached", "latency_s", "tokens_in", "tokens_out",
                "cost_usd"),
    "scores": ("run_id", "system", "metric", "example_id", "status", "value"),
}


@dataclass
class RunRecord:
    """The run's rows: its own (dicts) and the per-sample ones, as tuples of PER_SAMPLE_COLUMNS
    (a run has millions of them: a dict each cost more than SQLite's insert)."""

    run: dict[str, Any]
    systems: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    examples: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    samples: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def per_sample(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """(table name, tuples) of the per-sample tables, in the order they are inserted."""
        return [("examples", self.examples), ("example_tags", self.tags), ("samples", self.samples),
                ("scores", self.scores)]


def fingerprint(path: os.PathLike[str] | str) -> str:
    """Size and modification time of the record files: unchanged means nothing to re-read."""
    parts = []
    for name in (HEADER, SAMPLES, SUMMARY):
        try:
            stat = os.stat(os.path.join(path, name))
            parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "/".join(parts)


def utc(stamp: str | None) -> str | None:
    """An ISO time in UTC (naive times are taken as UTC), so times compare as strings."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _status(score: Any) -> tuple[str, float | None]:
    if not isinstance(score, dict):
        return "error", None
    status, value = score.get("status"), score.get("value")
    if status == "undefined":
        return "undefined", None
    if status == "ok" and isinstance(value, (int, float)) and math.isfinite(value):
        return "ok", float(value)
    return "error", None


def snippet(text: Any) -> str:
    """The start of an input, on one line, for lists (the full text stays in the run directory)."""
    from harness.store.schema import SNIPPET

    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


class RecordBuilder:
    """The store's rows of one run, built one sample at a time. `record_of` streams a `RunView`
    through it; a run being written is registered through it as its samples arrive
    (`harness.store.write.Registration`), its per-sample rows taken in batches (`take`)."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.record = RunRecord(run={})
        self.positions: dict[str, int] = {}  # example id -> position (first seen)
        self.per_system: dict[str, list[int]] = {}
        self.metric_order: dict[str, None] = {}

    def add(self, row: dict[str, Any]) -> None:
        run_id, record = self.run_id, self.record
        system, example = row["system"], row["example"]
        example_id = str(example["id"])
        if example_id not in self.positions:
            tags = [str(t) for t in (example.get("tags") or [])]
            position = self.positions[example_id] = len(self.positions)
            record.examples.append(
                (run_id, example_id, position, example_digest(example), _json(tags), snippet(example.get("input"))))
            record.tags += [(run_id, t, example_id) for t in dict.fromkeys(tags)]
        response = row.get("response") or {}
        failed = bool(response.get("error"))
        counts = self.per_system.setdefault(system, [0, 0])
        counts[0] += 1
        counts[1] += failed
        usage = response.get("usage") or {}
        tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
        record.samples.append((
            run_id, system, example_id, failed, bool(response.get("cached")),
            _number((response.get("timings") or {}).get("total_s")),
            tokens_in if isinstance(tokens_in, int) else None, tokens_out if isinstance(tokens_out, int) else None,
            _number(response.get("cost_usd")),
        ))
        metric_order, scores = self.metric_order, record.scores
        for metric, score in (row.get("scores") or {}).items():
            if metric not in metric_order:
                metric_order[metric] = None
            status, value = _status(score)
            scores.append((run_id, system, metric, example_id, status, value))

    def pending(self) -> int:
        record = self.record
        return len(record.examples) + len(record.tags) + len(record.samples) + len(record.scores)

    def take(self) -> RunRecord:
        """The per-sample rows gathered since the last call (the builder keeps its counts)."""
        taken, self.record = self.record, RunRecord(run={})
        return taken

    def finish(self, view: RunView, *, registered_at: str, stamp: str, duplicates: int) -> RunRecord:
        """The run's own rows (run, systems, metrics, summary), with the per-sample rows not taken."""
        header, record, run_id = view.header, self.record, self.run_id
        summary_rows = view.summary()
        record.summary = [{"run_id": run_id, **row.model_dump()} for row in summary_rows]
        metric_order = dict(self.metric_order)
        for row in summary_rows:
            metric_order[row.metric] = None
        for position, metric in enumerate(metric_order):
            info = header.info(metric)
            record.metrics.append({
                "run_id": run_id, "metric": metric, "position": position,
                "higher_is_better": info.higher_is_better, "unit": info.unit, "grp": info.group,
            })
        names = list(dict.fromkeys([*header.systems, *self.per_system, *(r.system for r in summary_rows)]))
        for position, system in enumerate(names):
            model = header.systems.get(system, {}).get("model")
            n, errors = self.per_system.get(system, [0, 0])
            record.systems.append({
                "run_id": run_id, "system": system, "position": position, "kind": header.kind(system),
                "model": model if isinstance(model, str) else None, "n_samples": n, "n_errors": errors,
            })
        quality = [m["metric"] for m in record.metrics if m["higher_is_better"]]  # as report.md's headline
        headline = headline_of(quality)
        means = [r.mean for r in summary_rows if r.metric == headline and r.mean is not None]
        record.run = {
            "run_id": run_id,
            "path": str(view.path.resolve()),
            "suite_name": header.suite.name,
            "suite_hash": header.suite.content_hash,
            "suite_path": header.suite.path,
            "status": header.status,
            "started_at": utc(header.started_at) or "",
            "ended_at": utc(header.ended_at),
            "git_commit": header.git.commit,
            "git_dirty": header.git.dirty,
            "n_planned": header.counts.planned,
            "n_done": header.counts.done,
            "n_errors": header.counts.errors,
            "n_examples": len(self.positions),
            "n_systems": len(names),
            "n_warnings": len(header.warnings),
            "n_degraded": len(header.degraded),
            "duplicates": duplicates,
            "headline_metric": headline,
            "headline_best": max(means) if means else None,
            "fingerprint": stamp,
            "header": header.model_dump_json(),
            "registered_at": registered_at,
        }
        return record


def record_of(view: RunView, *, registered_at: str) -> RunRecord:
    """Every row the store keeps for the run in `view`."""
    stamp = fingerprint(view.path)  # before reading: a run still being written is re-read next time
    builder = RecordBuilder(view.header.run_id)
    for row in view.rows():
        builder.add(row)
    return builder.finish(view, registered_at=registered_at, stamp=stamp, duplicates=view.duplicates)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
