"""The decision section of a run page, from `harness.decision` when this harness has it.

The analysis reads the whole run, so it runs in a worker thread: the page waits for it at most
`WAIT_S`, and otherwise says it is still being computed (the next load shows it). Without the
module, or when it fails, the page still works and says why the section is missing.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

from harness.errors import HarnessError

WAIT_S = 1.0
# Where the renderers may live: the module first (the package attribute of the same name is
# replaced by the submodule once that is imported), then the package's exports.
HTML_RENDERERS = [("harness.decision.render_html", ("render_html",)), ("harness.decision", ("render_html",))]
TEXT_RENDERERS = [("harness.decision.render_md", ("render_markdown",)), ("harness.decision", ("render_markdown",))]
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decision")


@dataclass
class DecisionSection:
    html: Any = None  # markupsafe.Markup built by harness.decision from escaped parts
    text: str | None = None  # a markdown rendering, shown as text
    note: str | None = None  # why there is no section (or that it is still computing)
    styles: tuple[str, ...] = ()  # CSP hash sources for the fragment's own inline styles


def style_sources(fragment: str) -> tuple[str, ...]:
    """CSP sources that allow exactly the fragment's `<style>` blocks and `style` attributes,
    and nothing else. The renderer escapes every string from the run (`<` becomes `&lt;`), so
    these come from its own code; allowing them by hash keeps the page's CSP free of
    'unsafe-inline'."""
    import base64
    import hashlib
    import html
    import re

    def source(css: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"

    blocks = re.findall(r"<style>(.*?)</style>", fragment, re.S)
    attributes = [html.unescape(v) for v in re.findall(r'\sstyle="([^"]*)"', fragment)]
    found = [source(css) for css in dict.fromkeys(blocks + attributes)]
    return tuple(found + (["'unsafe-hashes'"] if attributes else []))


def _find(candidates: list[tuple[str, tuple[str, ...]]]) -> Callable[[Any], str] | None:
    for module_name, names in candidates:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name in names:
            function = getattr(module, name, None)
            if callable(function):
                return function
    return None


def analyse(path: str) -> DecisionSection:
    try:
        module = importlib.import_module("harness.decision")
    except ModuleNotFoundError as error:
        if (error.name or "").startswith("harness.decision") or error.name == "harness":
            return DecisionSection(note="The decision section needs harness.decision, which this harness does not have.")
        raise
    from markupsafe import Markup

    from harness.run import RunView

    try:
        decision = module.analyse(RunView.open(path))
        render_html = _find(HTML_RENDERERS)
        if render_html is not None:
            fragment = str(render_html(decision))
            return DecisionSection(html=Markup(fragment), styles=style_sources(fragment))
        render_text = _find(TEXT_RENDERERS)
        if render_text is not None:
            return DecisionSection(text=render_text(decision))
        return DecisionSection(note="harness.decision has no renderer this viewer knows.")
    except HarnessError as error:
        return DecisionSection(note=f"No decision section: {error}")
    except Exception as error:  # noqa: BLE001 - the rest of the page must still work
        return DecisionSection(note=f"The decision analysis failed: {type(error).__name__}: {error}")


def decision_section(site: Any, run: dict[str, Any]) -> DecisionSection:
    if run["missing"]:
        return DecisionSection(note="The decision section needs the run directory, which is missing.")
    key = ("decision", run["run_id"], run["fingerprint"])
    future: Future[DecisionSection] = site.decisions.get(key, lambda: _pool.submit(analyse, run["path"]))
    try:
        return future.result(timeout=WAIT_S)
    except FutureTimeout:
        return DecisionSection(note="The decision analysis is still running for this large run: reload the page in a moment.")
