"""A metric per system across the runs of a suite, by time or by commit, as a chart (inline SVG
built here, every label escaped by the template) and a table."""

from __future__ import annotations

from typing import Any

from harness.store import read
from harness.view.site import Site, info_of
from harness.view.trend_chart import chart


def trends_page(site: Site, request: Any) -> Any:
    params = request.query_params
    suites = read.suites(site.store)
    suite = params.get("suite") or (suites[0]["suite_name"] if suites else None)
    by = "commit" if params.get("by") == "commit" else "time"
    every = params.get("all") == "1"
    metrics = read.suite_metrics(site.store, suite) if suite else []
    names = [m["metric"] for m in metrics]
    metric = params.get("metric")
    if metric not in names:
        metric = next((m["metric"] for m in metrics if m["higher_is_better"]), names[0] if names else None)
    rows = read.trend(site.store, suite, metric, statuses=read.STATUSES if every else ("complete",)) if metric else []
    info = info_of(next((m for m in metrics if m["metric"] == metric), None))
    points = _points(rows, by)
    table_runs = list(dict.fromkeys(p["run_id"] for p in points))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    cells = {(p["run_id"], p["system"]): p for p in points}
    runs = {p["run_id"]: p for p in points}
    return site.render(
        "trends.html", title="Trends", suites=suites, suite=suite, metrics=metrics, metric=metric, by=by, every=every,
        info=info, chart=chart(points, systems, info, by=by, kinds={r["system"]: r["kind"] or "unknown" for r in rows}) if points else None, systems=systems,
        table_runs=table_runs, cells=cells, runs=runs,
    )


def _points(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """By time: every run. By commit: the latest run of each commit (runs without one are left out)."""
    if by == "time":
        return rows
    latest: dict[str, str] = {}
    for row in rows:  # oldest first, so the last seen is the latest
        if row["git_commit"]:
            latest[row["git_commit"]] = row["run_id"]
    keep = set(latest.values())
    return [r for r in rows if r["run_id"] in keep]
