"""Two runs of one suite: per-metric deltas with paired CIs and Holm-adjusted p-values (the
code `harness compare` runs: `scores_of` + `compare`, default settings), what changed between
them, and the examples that flipped, each opening both runs' answers side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.store import read
from harness.view.pages.run import load_run
from harness.view.site import Site

MAX_LISTED = 200


@dataclass
class Flips:
    system: str
    metric: str
    binary: bool
    higher_is_better: bool
    changes: list[tuple[str, float, float, bool]] = field(default_factory=list)  # id, base, new, better

    @property
    def better(self) -> int:
        return sum(1 for *_, up in self.changes if up)

    @property
    def worse(self) -> int:
        return len(self.changes) - self.better


def flips_of(comparison: Any) -> list[Flips]:
    """Per (system, metric) of the comparison: examples scored ok in both runs whose value
    changed. A 0/1 metric lists every flip; a graded one its changes, largest first."""
    from harness.compare.changes import edited_examples

    base, new = comparison.base, comparison.new
    edited = edited_examples(base, new)
    found = []
    for row in comparison.rows:
        vb, vn = base.values(row.system, row.metric), new.values(row.system, row.metric)
        ids = [i for i in vb if i in vn and i not in edited]
        binary = all(v in (0.0, 1.0) for v in vb.values()) and all(v in (0.0, 1.0) for v in vn.values())
        changes = [(i, vb[i], vn[i], (vn[i] > vb[i]) == row.higher_is_better) for i in ids if abs(vn[i] - vb[i]) > 1e-12]
        if not binary:
            changes.sort(key=lambda c: -abs(c[2] - c[1]))
        if changes:
            found.append(Flips(row.system, row.metric, binary, row.higher_is_better, changes))
    found.sort(key=lambda f: (not f.binary, -len(f.changes)))
    return found


def compute(base_path: str, new_path: str) -> Any:
    from harness.compare.compare import compare
    from harness.run import RunView
    from harness.run.scores import scores_of

    return compare(scores_of(RunView.open(base_path)), scores_of(RunView.open(new_path)))


def compare_page(site: Site, request: Any) -> Any:
    params = request.query_params
    runs = read.list_runs(site.store, limit=None)
    context: dict[str, Any] = {"title": "Compare", "runs": runs, "base": None, "new": None, "comparison": None,
                               "error": None, "flips": [], "selected": None}
    if not (params.get("base") and params.get("new")):
        known = {r["run_id"]: r for r in runs}  # preselect what was given (from a run page's link)
        context.update(base=known.get(params.get("base", "")), new=known.get(params.get("new", "")))
        return site.render("compare.html", **context)
    base, new = load_run(site, params["base"]), load_run(site, params["new"])
    context.update(base=base, new=new)
    if base["suite_name"] != new["suite_name"]:
        context["error"] = (f"These runs are of different suites ({base['suite_name']!r} and {new['suite_name']!r}): "
                            "pick two runs of the same suite.")
    elif base["run_id"] == new["run_id"]:
        context["error"] = "Pick two different runs."
    elif base["missing"] or new["missing"]:
        gone = base if base["missing"] else new
        context["error"] = (f"The directory of run {gone['run_id'][:12]} is missing ({gone['path']}): comparing needs the "
                            "per-example scores of both runs. `harness runs add NEW_DIR` follows a moved run.")
    if context["error"]:
        return site.render("compare.html", status=400, **context)
    key = ("compare", base["run_id"], base["fingerprint"], new["run_id"], new["fingerprint"])
    comparison = site.compares.get(key, lambda: compute(base["path"], new["path"]))
    flips = site.compares.get(key + ("flips",), lambda: flips_of(comparison))
    selected = next((f for f in flips if f.system == params.get("system") and f.metric == params.get("metric")),
                    flips[0] if flips else None)
    context.update(comparison=comparison, alpha=comparison.settings.alpha, flips=flips, selected=selected,
                   max_listed=MAX_LISTED)
    return site.render("compare.html", **context)
