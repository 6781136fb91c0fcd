"""The decision analysis: from a run directory to "which approach, why, and what it costs".

    from harness.decision import analyse, render_markdown, render_html
    decision = analyse("results/runs/<run>")          # a Decision (pydantic, JSON-serialisable)
    print(render_markdown(decision))

Modules, one idea each: `facts` (one read of the run), `roles`, `effects` (paired CIs and the
words they allow), `power`, `attribution` (where each system fails), `matrix` (knowledge vs
behaviour), `costs` (latency, price, one-off, break-even), `freshness`, `recommend` (the rules),
`analysis` (all of it: `analyse`), `as_markdown` / `as_html` / `charts` (formatting only), `tables`
(DataFrames for notebooks). No model is called anywhere.
"""

from __future__ import annotations

from typing import Any

_LAZY = {"analyse": "harness.decision.analysis", "Decision": "harness.decision.model",
         "render_markdown": "harness.decision.as_markdown", "render_html": "harness.decision.as_html"}


def __getattr__(name: str) -> Any:
    """Exports load on first use: `harness --help` imports the `decide` command's module, which
    lives in this package, and must not pay for numpy and pydantic models here."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'harness.decision' has no attribute {name!r}")


__all__ = ["Decision", "analyse", "render_html", "render_markdown"]
