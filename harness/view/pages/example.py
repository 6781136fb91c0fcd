"""One example across every system, side by side; with `vs=RUN`, each system's answer in that
(base) run next to this one's, which is where a flipped example in the compare view opens."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.store import read
from harness.store.samples import example_scores
from harness.view.pages.columns import column, relevant_docs, store_column
from harness.view.pages.run import load_run
from harness.view.pages.samples import filter_of, filter_params, matching, run_texts
from harness.view.site import NotFound, Site, info_of


def example_page(site: Site, request: Any) -> Any:
    params = request.query_params
    run = load_run(site, request.path_params["run_id"])
    example_id = params.get("id") or ""
    if not example_id:
        raise HarnessError("which example? (the `id` parameter is missing)")
    parts = read.run_parts(site.store, run["run_id"])
    infos = {m["metric"]: info_of(m) for m in parts["metrics"]}
    kinds = {s["system"]: s["kind"] for s in parts["systems"]}
    base = load_run(site, params["vs"]) if params.get("vs") else None
    if base is not None and base["suite_name"] != run["suite_name"]:
        raise HarnessError(f"run {base['run_id'][:12]} is of suite {base['suite_name']!r}, not {run['suite_name']!r}")
    texts, note = run_texts(site, run)
    example: dict[str, Any] = {"id": example_id}
    columns: list[dict[str, Any]] = []
    if texts is not None:
        if example_id not in texts.examples:
            raise NotFound(f"no example {example_id!r} in run {run['run_id'][:12]}")
        example = texts.examples[example_id]
        rows = texts.rows(example_id)
        base_rows: dict[str, Any] = {}
        if base is not None:
            base_texts, base_note = run_texts(site, base)
            if base_texts is None:
                raise HarnessError(base_note or "the base run's directory is missing")
            base_rows = base_texts.rows(example_id)
        systems = list(dict.fromkeys([*texts.systems, *base_rows]))
        for system in systems:
            if base is not None:
                columns.append(column(f"{system} · base {base['run_id'][:8]}", system, kinds.get(system, "?"),
                                      base_rows.get(system), example, infos, base["run_id"]))
            if system in rows or base is None:
                label = f"{system} · this run {run['run_id'][:8]}" if base is not None else system
                columns.append(column(label, system, kinds.get(system, "?"), rows.get(system), example, infos, run["run_id"]))
    else:
        found = example_scores(site.store, run["run_id"], example_id)
        if not found:
            raise NotFound(f"no example {example_id!r} in run {run['run_id'][:12]}")
        for system in dict.fromkeys(s["system"] for s in found):
            columns.append(store_column(system, system, kinds.get(system, "?"), [s for s in found if s["system"] == system],
                                        infos, run["run_id"]))
    spec = filter_of(params)
    neighbours = _neighbours(site, run, parts, spec, texts, example_id)
    return site.render(
        "example.html", title=f"Example {example_id}", run=run, base=base, example=example, columns=columns,
        relevant=sorted(relevant_docs(example)), note=note, params=filter_params(spec), filtered=spec.active,
        neighbours=neighbours,
    )


def _neighbours(site: Site, run: dict[str, Any], parts: dict[str, Any], spec: Any, texts: Any,
                example_id: str) -> dict[str, Any]:
    """Previous and next example within the same filter, and this one's place in it."""
    ids, _ = matching(site, run, parts, spec, texts)
    if example_id not in ids:
        return {"previous": None, "next": None, "position": None, "count": len(ids)}
    at = ids.index(example_id)
    return {"previous": ids[at - 1] if at else None, "next": ids[at + 1] if at + 1 < len(ids) else None,
            "position": at + 1, "count": len(ids)}
