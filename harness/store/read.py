"""Reading the store: runs (listed, filtered, sorted), one run's systems, metrics and summary,
suites, and a metric's trend across a suite's runs. Plain dicts out, so the CLI, the viewer and
tests share them."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from typing import Any

from harness.errors import HarnessError
from harness.run.writer import HEADER
from harness.store.database import RunStore
from harness.store.records import utc

SORTS = {
    "started": "started_at", "suite": "suite_name", "status": "status", "commit": "git_commit",
    "systems": "n_systems", "samples": "n_done", "headline": "headline_best",
}
STATUSES = ("complete", "interrupted", "running", "failed")


class UnknownRun(HarnessError):
    """No run with that id (or id prefix) in the store."""


def moment(text: str, *, end_of_day: bool = False) -> str:
    """A --since/--until value (a date or an ISO time) as a UTC ISO string; a bare date as
    `until` means the end of that day."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return (start + timedelta(days=1, seconds=-1) if end_of_day else start).isoformat(timespec="seconds")
        datetime.fromisoformat(text)
    except ValueError:
        raise HarnessError(f"not a date or ISO time: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return utc(text) or text


def is_missing(path: str) -> bool:
    return not os.path.isfile(os.path.join(path, HEADER))


def list_runs(
    store: RunStore, *, suite: str | None = None, status: str | None = None, since: str | None = None,
    until: str | None = None, text: str | None = None, sort: str = "started", descending: bool = True,
    limit: int | None = 500,
) -> list[dict[str, Any]]:
    """Runs with their systems (name, kind) and whether their directory is missing."""
    from sqlalchemy import func, or_, select

    from harness.store.schema import run_systems, runs

    if sort not in SORTS:
        raise HarnessError(f"unknown sort {sort!r} (one of: {', '.join(SORTS)})")
    columns = [c for c in runs.c if c.name != "header"]
    query = select(*columns)
    if suite:
        query = query.where(runs.c.suite_name == suite)
    if status:
        query = query.where(runs.c.status == status)
    if since:
        query = query.where(runs.c.started_at >= moment(since))
    if until:
        query = query.where(runs.c.started_at <= moment(until, end_of_day=True))
    if text:
        like = f"%{text.lower()}%"
        query = query.where(or_(*(func.lower(c).like(like) for c in (runs.c.run_id, runs.c.suite_name, runs.c.git_commit,
                                                                      runs.c.path))))
    order = runs.c[SORTS[sort]]
    order = order.desc() if descending else order.asc()
    query = query.order_by(order.nulls_last() if sort == "headline" else order, runs.c.started_at.desc())
    if limit:
        query = query.limit(limit)
    with store.read() as connection:
        found = [dict(row._mapping) for row in connection.execute(query)]
        ids = [r["run_id"] for r in found]
        systems: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(run_systems).where(run_systems.c.run_id.in_(ids[start:start + 500])).order_by(run_systems.c.position)
            )
            for row in rows:
                systems.setdefault(row.run_id, []).append(dict(row._mapping))
    for run in found:
        run["systems"] = systems.get(run["run_id"], [])
        run["missing"] = is_missing(run["path"])
    return found


def resolve_run_id(store: RunStore, given: str) -> str:
    """A full run id, or a unique prefix of one (as `harness runs` prints them)."""
    from sqlalchemy import select

    from harness.store.schema import runs

    given = given.strip()
    if not given:
        raise UnknownRun("empty run id")
    with store.read() as connection:
        if connection.execute(select(runs.c.run_id).where(runs.c.run_id == given)).first():
            return given
        pattern = given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = list(connection.execute(
            select(runs.c.run_id).where(runs.c.run_id.like(pattern, escape="\\")).limit(5)
        ).scalars())
    if not matches:
        raise UnknownRun(f"no run {given!r} in the run store", where=store.location.shown)
    if len(matches) > 1:
        raise UnknownRun(f"run id {given!r} is ambiguous: {', '.join(matches)}", where=store.location.shown)
    return matches[0]


def get_run(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run's row (header included), or UnknownRun."""
    from sqlalchemy import select

    from harness.store.schema import runs

    with store.read() as connection:
        row = connection.execute(select(runs).where(runs.c.run_id == run_id)).first()
    if row is None:
        raise UnknownRun(f"no run {run_id!r} in the run store", where=store.location.shown)
    run = dict(row._mapping)
    run["missing"] = is_missing(run["path"])
    return run


def run_parts(store: RunStore, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """The run's systems, metrics (with direction) and summary rows, each in recorded order."""
    from sqlalchemy import select

    from harness.store.schema import run_metrics, run_systems, summary

    with store.read() as connection:
        systems = connection.execute(
            select(run_systems).where(run_systems.c.run_id == run_id).order_by(run_systems.c.position))
        metrics = connection.execute(
            select(run_metrics).where(run_metrics.c.run_id == run_id).order_by(run_metrics.c.position))
        rows = connection.execute(select(summary).where(summary.c.run_id == run_id))
        return {
            "systems": [dict(r._mapping) for r in systems],
            "metrics": [dict(r._mapping) for r in metrics],
            "summary": [dict(r._mapping) for r in rows],
        }


def suites(store: RunStore) -> list[dict[str, Any]]:
    """Suite names with their number of runs and latest start, most recent first."""
    from sqlalchemy import func, select

    from harness.store.schema import runs

    query = (select(runs.c.suite_name, func.count().label("runs"), func.max(runs.c.started_at).label("latest"))
             .group_by(runs.c.suite_name).order_by(func.max(runs.c.started_at).desc()))
    with store.read() as connection:
        return [dict(r._mapping) for r in connection.execute(query)]


def suite_metrics(store: RunStore, suite: str) -> list[dict[str, Any]]:
    """Metrics that appear in any run of the suite (first-seen order), with their direction."""
    from sqlalchemy import select

    from harness.store.schema import run_metrics, runs

    query = (select(run_metrics.c.metric, run_metrics.c.higher_is_better, run_metrics.c.unit, run_metrics.c.grp)
             .join(runs, runs.c.run_id == run_metrics.c.run_id).where(runs.c.suite_name == suite)
             .order_by(runs.c.started_at.desc(), run_metrics.c.position))
    seen: dict[str, dict[str, Any]] = {}
    with store.read() as connection:
        for row in connection.execute(query):
            seen.setdefault(row.metric, dict(row._mapping))
    return list(seen.values())


def trend(store: RunStore, suite: str, metric: str, *, statuses: tuple[str, ...] = ("complete",)) -> list[dict[str, Any]]:
    """One row per (run, system) of the suite with the metric's mean and CI, oldest run first."""
    from sqlalchemy import select

    from harness.store.schema import run_systems, runs, summary

    query = (select(runs.c.run_id, runs.c.started_at, runs.c.git_commit, runs.c.git_dirty, runs.c.status,
                    summary.c.system, run_systems.c.kind, summary.c.mean, summary.c.ci_low, summary.c.ci_high, summary.c.n)
             .join(summary, summary.c.run_id == runs.c.run_id)
             .outerjoin(run_systems, (run_systems.c.run_id == summary.c.run_id) & (run_systems.c.system == summary.c.system))
             .where(runs.c.suite_name == suite, summary.c.metric == metric, runs.c.status.in_(statuses))
             .order_by(runs.c.started_at, runs.c.run_id))
    with store.read() as connection:
        return [dict(r._mapping) for r in connection.execute(query)]
