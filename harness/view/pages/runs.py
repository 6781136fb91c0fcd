"""The runs list: filter by suite, status, text and dates; sort by any column."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.store import read
from harness.store.database import StoreError
from harness.view.site import Site

PAGE = 200


def runs_page(site: Site, request: Any) -> Any:
    params = request.query_params
    sort = params.get("sort") or "started"
    if sort not in read.SORTS:
        sort = "started"
    descending = params.get("dir", "desc") != "asc"
    filters = {k: (params.get(k) or "").strip() or None for k in ("suite", "status", "q", "since", "until")}
    note = None
    try:
        found = read.list_runs(
            site.store, suite=filters["suite"], status=filters["status"], since=filters["since"], until=filters["until"],
            text=filters["q"], sort=sort, descending=descending, limit=PAGE + 1,
        )
    except StoreError:
        raise
    except HarnessError as error:  # a bad date in the filter: say so above an empty list
        found, note = [], str(error)
    more = len(found) > PAGE
    return site.render(
        "runs.html", title="Runs", runs=found[:PAGE], more=more, page_size=PAGE, suites=read.suites(site.store),
        statuses=read.STATUSES, filters=filters, sort=sort, descending=descending, note=note,
        sort_url=lambda column: _sort_url(filters, sort, descending, column),
    )


def _sort_url(filters: dict[str, Any], sort: str, descending: bool, column: str) -> str:
    from harness.view.site import url

    flip = "asc" if (column == sort and descending) else "desc"
    return url("/", sort=column, dir=flip, **filters)
