"""`harness view`: a local, read-only web viewer over the run store.

- `app`: the ASGI app (Starlette): routes, security headers, errors as pages.
- `site`: what pages share: the store, templates (autoescaped), caches, formatting, the CSP.
- `pages/`: one module per view: runs, run, samples, example (side by side), compare, trends.
- `texts`: a run's texts, read once from its directory through `RunView`.
- `decision`: the decision section from `harness.decision`, when this harness has it.
- `trend_chart`: the trend chart's geometry (the template draws the SVG).
- `synthetic`: realistic run directories for tests, the benchmark and demos.
- `cli`: the command.

Starlette, uvicorn and Jinja2 come with the `view` extra and are imported only here.
"""
