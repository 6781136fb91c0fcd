"""Notebook and script API: run a suite or load a run directory, get DataFrames and charts.

`run_suite` works inside Jupyter's running event loop without nest_asyncio: harness.engine.launch runs
the run's own loop in a worker thread there. `arun_suite` is the `await` form; it runs the same
code in a thread, so the caller's loop (the notebook) stays responsive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from harness.report.data import RunData
from harness.run.summary import SUMMARY_COLUMNS


class RunResults:
    """One run directory, read once. DataFrames are built on first use."""

    def __init__(self, data: RunData):
        self.data = data
        self._cache: dict[str, pd.DataFrame] = {}

    @property
    def path(self) -> Path:
        return self.data.path

    @property
    def header(self) -> dict[str, Any]:
        """run.json as a dict (suite, systems with kind and config, counts, status, warnings)."""
        return self.data.header.model_dump(mode="json")

    @property
    def systems(self) -> list[str]:
        return self.data.systems

    @property
    def metrics(self) -> list[str]:
        return self.data.metrics

    @property
    def summary(self) -> pd.DataFrame:
        """summary.csv: one row per system x metric; undefined means are NaN here, n/a in reports."""
        if "summary" not in self._cache:
            frame = pd.DataFrame(self.data.summary, columns=SUMMARY_COLUMNS)
            for column in ("mean", "ci_low", "ci_high"):
                frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
            self._cache["summary"] = frame
        return self._cache["summary"]

    @property
    def samples(self) -> pd.DataFrame:
        """Long format: one row per system x example x metric, with the score's status and reason."""
        if "samples" not in self._cache:
            kinds = self.data.kinds
            rows = [
                {
                    "system": row["system"], "kind": kinds.get(row["system"], "unknown"),
                    "example_id": row["example"]["id"], "tags": list(row["example"].get("tags") or []),
                    "metric": name, "value": score.get("value"), "status": score.get("status"),
                    "reason": score.get("reason"), "detail": score.get("detail") or {},
                }
                for row in self.data.rows()
                for name, score in row.get("scores", {}).items()
            ]
            columns = ["system", "kind", "example_id", "tags", "metric", "value", "status", "reason", "detail"]
            frame = pd.DataFrame(rows, columns=columns)
            frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
            self._cache["samples"] = frame
        return self._cache["samples"]

    def wide(self, values: str = "value") -> pd.DataFrame:
        """One row per (system, example_id), one column per metric; `values` may be 'status'."""
        frame = self.samples.pivot(index=["system", "example_id"], columns="metric", values=values)
        return frame.reindex(columns=[m for m in self.metrics if m in frame.columns])

    @property
    def outputs(self) -> pd.DataFrame:
        """One row per system x example: what the system said, its error, time, tokens and cost."""
        if "outputs" not in self._cache:
            kinds = self.data.kinds
            rows = []
            for row in self.data.rows():
                example, response = row["example"], row.get("response", {})
                timings, usage = response.get("timings") or {}, response.get("usage") or {}
                retrieved = response.get("retrieved")
                rows.append({
                    "system": row["system"], "kind": kinds.get(row["system"], "unknown"), "example_id": example["id"],
                    "input": example.get("input"), "reference": example.get("reference"),
                    "output": response.get("text", ""), "error": response.get("error"),
                    "latency_s": timings.get("total_s"), "retrieval_s": timings.get("retrieval_s"),
                    "generation_s": timings.get("generation_s"), "tokens_in": usage.get("input_tokens"),
                    "tokens_out": usage.get("output_tokens"), "cost_usd": response.get("cost_usd"),
                    "cached": bool(response.get("cached")), "model": response.get("model"),
                    "retrieved_doc_ids": None if retrieved is None else [c.get("doc_id") for c in retrieved],
                    "tags": list(example.get("tags") or []),
                })
            self._cache["outputs"] = pd.DataFrame(rows)
        return self._cache["outputs"]

    def table(self) -> pd.DataFrame:
        """Means as systems x metrics, in the run's order: the quick look."""
        frame = self.summary.pivot(index="system", columns="metric", values="mean")
        return frame.reindex(index=[s for s in self.systems if s in frame.index],
                             columns=[m for m in self.metrics if m in frame.columns])

    def plot_metric(self, metric: str) -> Any:
        """A `harness.charts.svg.Chart`: Jupyter shows it inline; `.save(path)` writes the SVG."""
        from harness.report.charts import plot_metric

        return plot_metric(self.data, metric)

    def plot_tradeoff(self, quality: str | None = None, cost: str = "latency_s") -> Any:
        """Quality vs a cost-side metric with the Pareto front; quality defaults to the headline metric."""
        from harness.report.charts import plot_tradeoff

        quality = quality or self.data.headline()
        if quality is None:
            raise ValueError("this run has no quality metric")
        return plot_tradeoff(self.data, quality, cost)

    def plot_tags(self, metric: str | None = None) -> Any:
        from harness.report.charts import plot_tags

        metric = metric or self.data.headline()
        if metric is None:
            raise ValueError("this run has no quality metric")
        return plot_tags(self.data, metric)

    def plot_latency(self) -> Any:
        from harness.report.charts import plot_latency

        return plot_latency(self.data)

    def decision(self, suite: str | Path | None = None) -> Any:
        """The decision analysis as DataFrames (`.effects`, `.attribution`, `.costs`, ...) and the
        recommendation text; `suite` reads `decision:`/`cost:` from that file instead of the run's.
        The typed record is `.decision` (see harness.decision)."""
        from harness.decision.analysis import analyse_facts
        from harness.decision.facts import facts_from_rows
        from harness.decision.tables import decision_tables

        sections = (None, None)
        if suite is not None:
            from harness.decision.cli import load_sections

            sections = load_sections(str(suite))
        return decision_tables(analyse_facts(facts_from_rows(self.data.header, self.data.rows(), *sections)))

    def write_reports(self) -> list[Path]:
        """(Re)write report.md, charts/ and report.html into the run directory."""
        from harness.report import write_reports

        return write_reports(self.path)

    def __repr__(self) -> str:
        h = self.header
        return f"<RunResults {h['suite'].get('name')} {h.get('status')} {len(self.systems)} systems: {self.path}>"

    def _repr_html_(self) -> str:
        h = self.header
        counts = h.get("counts", {})
        import html

        head = (f"<p><b>{html.escape(str(h['suite'].get('name')))}</b>: {html.escape(str(h.get('status')))}, "
                f"{counts.get('done', 0)}/{counts.get('planned', 0)} samples, {counts.get('errors', 0)} errors "
                f"- <code>{html.escape(str(self.path))}</code></p>")
        return head + self.table().to_html(float_format=lambda v: f"{v:.3g}", na_rep="n/a")


def load_run(path: str | Path) -> RunResults:
    """Read a run directory (raises HarnessError if it is not one). Re-runs nothing."""
    return RunResults(RunData.load(path))


def _run_options(options: dict[str, Any]) -> Any:
    from harness.engine.plan import RunOptions

    known = [f.name for f in dataclasses.fields(RunOptions)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(f"unknown run option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    for key in ("out", "cache_dir"):
        if options.get(key) is not None:
            options[key] = Path(options[key])
    if isinstance(options.get("systems"), str):
        options["systems"] = [s.strip() for s in options["systems"].split(",") if s.strip()]
    return RunOptions(**options)


def run_suite(suite_path: str | Path, **options: Any) -> RunResults:
    """Run a suite like `harness run` and load the result. Options are RunOptions fields:
    out, limit, systems, use_cache, model, judge_model, cache_dir, progress."""
    from harness.engine.launch import start_run

    outcome = start_run(suite_path, _run_options(options))
    for reason in outcome.header.unusable() if outcome.header.status == "complete" else []:
        warnings.warn(f"unusable run: {reason}", UnusableRunWarning, stacklevel=2)
    return load_run(outcome.path)


class UnusableRunWarning(UserWarning):
    """The run finished but its numbers should not be used (too many errors, a broken judge)."""


async def arun_suite(suite_path: str | Path, **options: Any) -> RunResults:
    """`await arun_suite(...)`: the same run in a worker thread, leaving the caller's loop free."""
    return await asyncio.to_thread(run_suite, suite_path, **options)
