"""One run: its facts, the systems x metrics table (means, CIs, counts, best marked), the charts
`harness run` drew, and the decision section."""

from __future__ import annotations

import os
from typing import Any

from harness.run import RunHeader
from harness.store import read
from harness.view.decision import decision_section
from harness.view.site import NotFound, Site, info_of

CHART_ORDER = ("metric_", "latency", "tradeoff_", "tags_")


def load_run(site: Site, given: str) -> dict[str, Any]:
    """The run's row by id or unique prefix (UnknownRun otherwise), with its header parsed."""
    run = read.get_run(site.store, read.resolve_run_id(site.store, given))
    run["header_model"] = RunHeader.model_validate_json(run["header"])
    return run


def results(parts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Metric columns (higher-is-better first), system rows, and the best system(s) per column."""
    cells = {(r["system"], r["metric"]): r for r in parts["summary"]}
    metrics = [m for m in parts["metrics"] if any(k[1] == m["metric"] for k in cells)]
    metrics.sort(key=lambda m: not m["higher_is_better"])
    systems = [s for s in parts["systems"] if any(k[0] == s["system"] for k in cells)] or parts["systems"]
    best: dict[str, set[str]] = {}
    for metric in metrics:
        means = {s["system"]: cells[(s["system"], metric["metric"])]["mean"] for s in systems
                 if (s["system"], metric["metric"]) in cells and cells[(s["system"], metric["metric"])]["mean"] is not None}
        if len(means) > 1:
            target = max(means.values()) if metric["higher_is_better"] else min(means.values())
            best[metric["metric"]] = {s for s, v in means.items() if v == target}
    return {"metrics": metrics, "systems": systems, "cells": cells, "best": best,
            "infos": {m["metric"]: info_of(m) for m in metrics}}


def chart_names(path: str) -> list[str]:
    """The charts in the run directory's charts/ folder, in the report's order: SVG, or the PNG
    of a run reported before charts were SVG (where the same chart has both, the SVG)."""
    from harness.report import CHARTS_DIR

    folder = os.path.join(path, CHARTS_DIR)
    try:
        names = [n for n in os.listdir(folder) if n.endswith((".svg", ".png")) and os.path.isfile(os.path.join(folder, n))]
    except OSError:
        return []
    svgs = {n[:-4] for n in names if n.endswith(".svg")}
    names = [n for n in names if n.endswith(".svg") or n[:-4] not in svgs]
    rank = {prefix: i for i, prefix in enumerate(CHART_ORDER)}
    return sorted(names, key=lambda n: (next((rank[p] for p in CHART_ORDER if n.startswith(p)), 9), n))


def chart_title(name: str) -> str:
    stem = name[:-4]
    for prefix, template in (("metric_", "{} by system"), ("tags_", "{} by tag"), ("tradeoff_", "quality vs {}")):
        if stem.startswith(prefix):
            return template.format(stem[len(prefix):])
    return stem.replace("_", " ")


def previous_run(site: Site, run: dict[str, Any]) -> dict[str, Any] | None:
    """The suite's run started just before this one (for "compare with previous")."""
    earlier = [r for r in read.list_runs(site.store, suite=run["suite_name"], until=None, limit=None)
               if r["started_at"] < run["started_at"] and r["run_id"] != run["run_id"]]
    return earlier[0] if earlier else None


def run_page(site: Site, request: Any) -> Any:
    run = load_run(site, request.path_params["run_id"])
    parts = read.run_parts(site.store, run["run_id"])
    charts = [] if run["missing"] else [(n, chart_title(n)) for n in chart_names(run["path"])]
    if not run["missing"]:
        site.texts.prefetch(run["path"])  # the samples and side-by-side views are a click away
    decision = decision_section(site, run)
    return site.render(
        "run.html", title=f"{run['suite_name']}: run {run['run_id'][:12]}", run=run,
        header=run["header_model"], table=results(parts), charts=charts, decision=decision,
        previous=previous_run(site, run),
    )


def chart_file(site: Site, request: Any) -> Any:
    from starlette.responses import FileResponse

    from harness.report import CHARTS_DIR

    run = read.get_run(site.store, read.resolve_run_id(site.store, request.path_params["run_id"]))
    name = request.path_params["name"]
    if run["missing"] or name not in chart_names(run["path"]):  # only a listed file: no path from the URL is opened
        raise NotFound(f"no chart {name!r} in this run", where=run["path"])
    media = "image/svg+xml" if name.endswith(".svg") else "image/png"
    return FileResponse(os.path.join(run["path"], CHARTS_DIR, name), media_type=media)
