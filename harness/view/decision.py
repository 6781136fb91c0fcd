"""The decision section of a run page (`harness.decision`, the same analysis as the report's).

The analysis reads the whole run, so it runs in a worker thread: the page waits for it at most
`WAIT_S`, and otherwise says it is still being computed (the next load shows it). When it fails,
the page still works and says why the section is missing.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError

WAIT_S = 1.0
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decision")


@dataclass
class DecisionSection:
    html: Any = None  # markupsafe.Markup built by harness.decision from escaped parts
    note: str | None = None  # why there is no section (or that it is still computing)


def analyse(path: str, run_id: str) -> DecisionSection:
    from markupsafe import Markup

    from harness.decision import analyse as analyse_run
    from harness.decision import render_html
    from harness.run import RunView
    from harness.view.site import url

    def href(example_id: str) -> str:  # the side-by-side view of that example
        return url(f"/runs/{run_id}/example", id=example_id)

    try:
        fragment = str(render_html(analyse_run(RunView.open(path)), href=href))
        return DecisionSection(html=Markup(fragment))
    except HarnessError as error:
        return DecisionSection(note=f"No decision section: {error}")
    except Exception as error:  # noqa: BLE001 - the rest of the page must still work
        return DecisionSection(note=f"The decision analysis failed: {type(error).__name__}: {error}")


def decision_section(site: Any, run: dict[str, Any]) -> DecisionSection:
    if run["missing"]:
        return DecisionSection(note="The decision section needs the run directory, which is missing.")
    key = ("decision", run["run_id"], run["fingerprint"])
    future: Future[DecisionSection] = site.decisions.get(key, lambda: _pool.submit(analyse, run["path"], run["run_id"]))
    try:
        return future.result(timeout=WAIT_S)
    except FutureTimeout:
        return DecisionSection(note="The decision analysis is still running for this large run: reload the page in a moment.")
