"""A run's examples, filtered: by tag, by a metric's status (for one system or any), by a
`where` expression across systems (run in the store), and by text (over the run directory's
texts). Each row shows one metric for every system and opens the side-by-side view."""

from __future__ import annotations

from typing import Any

from harness.store import read
from harness.store.samples import (
    SampleFilter,
    WhereError,
    example_count,
    filter_examples,
    page_examples,
    page_scores,
    tags,
)
from harness.view.pages.run import load_run
from harness.view.site import Site, info_of
from harness.view.texts import RunDirectoryMissing, RunTexts

PER_PAGE = 50
FILTER_KEYS = ("tag", "system", "metric", "status", "where", "q")


def filter_of(params: Any) -> SampleFilter:
    value = {k: (params.get(k) or "").strip() or None for k in FILTER_KEYS}
    return SampleFilter(tag=value["tag"], system=value["system"], metric=value["metric"], status=value["status"],
                        where=value["where"], text=value["q"])


def filter_params(spec: SampleFilter) -> dict[str, Any]:
    """The filter as query parameters, to carry from the list into the side-by-side view and back."""
    return {"tag": spec.tag, "system": spec.system, "metric": spec.metric, "status": spec.status,
            "where": spec.where, "q": spec.text}


def _missing_note(run: dict[str, Any]) -> str | None:
    return f"The run directory {run['path']} is missing: texts and text search need it." if run["missing"] else None


def run_texts(site: Site, run: dict[str, Any]) -> tuple[RunTexts | None, str | None]:
    """The run's texts, or None and why (the directory is missing)."""
    if run["missing"]:
        return None, _missing_note(run)
    try:
        return site.texts.get(run["path"]), None
    except RunDirectoryMissing as error:
        return None, str(error)


def matching(site: Site, run: dict[str, Any], parts: dict[str, Any], spec: SampleFilter,
             texts: RunTexts | None) -> tuple[list[str], str | None]:
    """Example ids that pass the filter, in run order, and an error to show (a bad `where`)."""
    try:
        ids = filter_examples(site.store, run["run_id"], spec, systems=[s["system"] for s in parts["systems"]],
                              metrics=[m["metric"] for m in parts["metrics"]])
    except WhereError as error:
        return [], str(error)
    if spec.text:
        if texts is None:
            return [], "Text search needs the run directory, which is missing."
        ids = texts.search(ids, spec.text)
    return ids, None


def samples_page(site: Site, request: Any) -> Any:
    run = load_run(site, request.path_params["run_id"])
    parts = read.run_parts(site.store, run["run_id"])
    params = request.query_params
    spec = filter_of(params)
    if spec.text:  # only text search needs the texts now; otherwise they load in the background
        texts, texts_note = run_texts(site, run)
    else:
        texts, texts_note = None, _missing_note(run)
        if not run["missing"]:
            site.texts.prefetch(run["path"])  # for the side-by-side view, a click away
    ids, error = matching(site, run, parts, spec, texts)
    metrics = [m["metric"] for m in parts["metrics"]]
    show = params.get("show") or run["headline_metric"] or (metrics[0] if metrics else None)
    if show not in metrics:
        show = metrics[0] if metrics else None
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    pages = max(1, -(-len(ids) // PER_PAGE))
    page = min(page, pages)
    shown = ids[(page - 1) * PER_PAGE: page * PER_PAGE]
    info = info_of(next((m for m in parts["metrics"] if m["metric"] == show), None))
    return site.render(
        "samples.html", title=f"Samples: run {run['run_id'][:12]}", run=run, parts=parts, spec=spec,
        params=filter_params(spec), show=show, show_info=info, ids=shown, total=example_count(site.store, run["run_id"]),
        matched=len(ids), page=page, pages=pages, error=error, texts_note=texts_note,
        scores=page_scores(site.store, run["run_id"], shown, show), examples=page_examples(site.store, run["run_id"], shown),
        tags=tags(site.store, run["run_id"]), metrics=metrics,
    )
