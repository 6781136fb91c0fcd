"""One read of a run directory shared by tables, charts, HTML and the notebook API.

A thin view over `harness.run.RunView`: the header, summary rows and samples come from the run
record's one reader, so reports can be regenerated at any time without re-running a model.
Samples are streamed once into aggregates (`SampleStats`), so memory does not grow with the run.
Which way a metric is better, and whether it is quality or cost, is what the metric declared
(recorded in run.json); runs that did not record it fall back to the name rule.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.run.example_index import ExampleIndex
from harness.report.latency import LatencyStats
from harness.run import RunHeader, RunTally, RunView
from harness.run.headline import headline_of
from harness.run.summary import SUMMARY
from harness.types import MetricInfo

KIND_COLOURS = {
    "prompt": "#4C72B0", "few_shot": "#DD8452", "rag": "#55A868", "finetuned": "#C44E52",
    "hybrid": "#8172B3", "oracle": "#937860", "replay": "#7F7F7F", "custom": "#DA8BC3",
}
_SPARE = ["#CCB974", "#64B5CD", "#8C564B", "#17BECF", "#BCBD22", "#E377C2"]
UNTAGGED = "(untagged)"


def fmt(info: MetricInfo, value: float | None) -> str:
    """Three decimals for unitless 0..1 scores, three significant digits for everything else."""
    if value is None:
        return "n/a"
    if info.unit is None and info.higher_is_better and 0.0 <= value <= 1.0:
        return f"{value:.3f}"
    return f"{value:.3g}"


def kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(kind) or _SPARE[zlib.crc32(kind.encode()) % len(_SPARE)]


def _shade(colour: str, nth: int) -> str:
    """The nth system of one kind: same hue, alternately lighter and darker, so kinds stay readable."""
    if nth == 0:
        return colour
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    amount = min(0.2 * ((nth + 1) // 2), 0.6)
    target = 255 if nth % 2 else 0
    mixed = [round(c + (target - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


class SampleStats:
    """What reports need from the samples, gathered in one streaming pass (never a list of them):
    the counts (`RunTally`), tags in first-seen order with the examples that carry them (a byte
    an example, over the positions of an `ExampleIndex` the decision's facts share), per (system, tag,
    metric) the sum and count of `ok` values, and per system the latencies of successful samples
    (`LatencyStats`: the one per-sample series kept, 8 bytes each, for the Systems table's
    percentiles and the latency distribution chart)."""

    def __init__(self, *, keep_values: bool = True) -> None:
        self.tally = RunTally(keep_values=keep_values)  # counts only: the summary is read from summary.csv
        self.systems: dict[str, None] = {}
        self.index = ExampleIndex()  # example id -> position, shared with the decision's facts
        self.tag_flags: dict[str, bytearray] = {}  # tag -> 1 at the position of each example with it (first-seen order)
        self.tag_sums: dict[tuple[str, str, str], list[float]] = {}
        self.split: dict[str, dict[str, list[float]]] = {}  # system -> retrieval/generation -> [sum, n]
        self.judges: dict[str, dict[str, Any]] = {}  # score name -> the first `detail` naming its judge
        self.latency = LatencyStats()  # p50/p95 and retried samples per system (the Systems table)
        self.facts: Any = None  # a harness.decision.facts.FactsBuilder fed in the same pass (the Decision section)

    def tag_counts(self) -> dict[str, int]:
        return {tag: flags.count(1) for tag, flags in self.tag_flags.items()}

    def add_row(self, row: dict[str, Any]) -> None:
        """One sample, as parsed from samples.jsonl."""
        system, example = row["system"], row["example"]
        self.tally.add_row(row)
        self.latency.add_row(row)
        if self.facts is not None:
            self.facts.add(row)
        self.systems.setdefault(system, None)
        tags = [str(t) for t in example.get("tags") or [UNTAGGED]]
        position = self.index.position(str(example["id"]))
        for tag in tags:
            flags = self.tag_flags.setdefault(tag, bytearray())
            if position >= len(flags):
                flags.extend(bytes(position + 1 - len(flags)))
            flags[position] = 1  # an example counts once in a tag, whichever rows carry it
        for metric, score in (row.get("scores") or {}).items():
            if not score:
                continue
            detail = score.get("detail")
            if detail and metric not in self.judges and detail.get("judge"):
                self.judges[metric] = detail
            if score.get("status") != "ok" or score.get("value") is None:
                continue
            value = float(score["value"])
            for tag in tags:
                cell = self.tag_sums.get((system, tag, metric))
                if cell is None:
                    cell = self.tag_sums[(system, tag, metric)] = [0, 0]
                cell[0] += value
                cell[1] += 1
        response = row.get("response") or {}
        if response.get("error"):
            return
        timings = response.get("timings") or {}
        split = self.split.get(system)
        if split is None:
            split = self.split[system] = {"retrieval": [0, 0], "generation": [0, 0]}
        for key, cell in split.items():
            if timings.get(f"{key}_s") is not None:
                cell[0] += float(timings[f"{key}_s"])
                cell[1] += 1


def facts_builder(header: RunHeader, index: ExampleIndex | None = None) -> Any:
    """What gathers the decision analysis's facts while the samples stream past (`index`: the
    example positions to share, a `SampleStats`'s)."""
    from harness.decision.facts import FactsBuilder

    return FactsBuilder(header, index=index)


@dataclass
class RunData:
    """A run for reports: header, summary rows and `SampleStats`, in memory whatever the run's
    size. The samples themselves are streamed again when needed (`rows()`)."""

    path: Path
    header: RunHeader
    summary: list[dict[str, Any]]
    stats: SampleStats = field(default_factory=SampleStats)
    duplicates_warning: str | None = None  # samples.jsonl holds pairs written twice (the first of each is used)
    _cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    _systems: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path: str | Path, visit: Callable[["RunData"], Callable[[dict[str, Any]], None]] | None = None,
             *, decision: bool = False) -> "RunData":
        """Header, summary and one pass over the samples. `visit(data)` may return a function
        that sees every sample in the same pass (the HTML pages); it is called with the header
        and summary in place, and only when summary.csv exists (else the pass computes it)."""
        view = RunView.open(path)
        summary = view.summary() if (view.path / SUMMARY).is_file() else None
        data = cls(view.path, view.header, [row.model_dump() for row in summary or []])
        if decision:  # the report's Decision section, from this same pass
            data.stats.facts = facts_builder(view.header, data.stats.index)
        seen = visit(data) if visit is not None and summary is not None else None
        add = data.stats.add_row
        for row in view.rows():
            add(row)
            if seen is not None:
                seen(row)
        if summary is None:  # a kill before summary.csv: computed from the tally just gathered
            view._tally = data.stats.tally
            data.summary = [row.model_dump() for row in view.compute_summary()]
        if message := view.duplicates_message():
            data.header.warnings = [*data.header.warnings, message]  # shown by the reports, not saved
        data.duplicates_warning = message
        data.__post_init__()
        return data

    @classmethod
    def with_stats(cls, path: str | Path, stats: SampleStats) -> "RunData":
        """Header and summary from the run directory, samples already gathered (by following the run)."""
        view = RunView.open(path)
        return cls(view.path, view.header, [row.model_dump() for row in view.summary()], stats)

    def __post_init__(self) -> None:
        self._cells = {(r["system"], r["metric"]): r for r in self.summary}
        names = dict.fromkeys(self.header.systems)  # header order first (the suite's),
        names.update(dict.fromkeys(r["system"] for r in self.summary))  # then any other
        names.update(self.stats.systems)
        self._systems = list(names)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every sample as parsed JSON, streamed from samples.jsonl (see RunView.rows)."""
        return RunView.open(self.path).rows()

    @property
    def samples(self) -> list[dict[str, Any]]:
        """Every sample in one list: reads the whole run into memory (prefer `rows()`)."""
        return list(self.rows())

    def info(self, metric: str) -> MetricInfo:
        return self.header.info(metric)

    def lower_is_better(self, metric: str) -> bool:
        """Cost-side numbers (time, money, tokens, errors), as the metric declared."""
        return not self.info(metric).higher_is_better

    def better(self, metric: str, a: float, b: float) -> bool:
        return a < b if self.lower_is_better(metric) else a > b

    def fmt(self, metric: str, value: float | None) -> str:
        return fmt(self.info(metric), value)

    @property
    def systems(self) -> list[str]:
        return list(self._systems)

    @property
    def kinds(self) -> dict[str, str]:
        return {s: self.header.kind(s) for s in self.systems}

    def colours(self) -> dict[str, str]:
        seen: dict[str, int] = {}
        colours = {}
        for system, kind in self.kinds.items():
            colours[system] = _shade(kind_colour(kind), seen.get(kind, 0))
            seen[kind] = seen.get(kind, 0) + 1
        return colours

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(r["metric"] for r in self.summary))

    def main_metrics(self) -> list[str]:
        return [m for m in self.metrics if not self.lower_is_better(m)]

    def headline(self) -> str | None:
        return headline_of(self.main_metrics())

    def cell(self, system: str, metric: str) -> dict[str, Any] | None:
        return self._cells.get((system, metric))

    def mean(self, system: str, metric: str) -> float | None:
        row = self.cell(system, metric)
        return None if row is None else row["mean"]

    def best(self, metric: str) -> set[str]:
        """Systems with the best mean (ties all win); empty when there is nothing to choose:
        fewer than two systems with a value, or all of them equal."""
        means = {s: m for s in self.systems if (m := self.mean(s, metric)) is not None}
        top = min(means.values(), default=None) if self.lower_is_better(metric) else max(means.values(), default=None)
        winners = {s for s, m in means.items() if m == top}
        return set() if len(means) < 2 or winners == set(means) else winners

    @property
    def tally(self) -> RunTally:
        return self.stats.tally

    def errors(self) -> dict[str, int]:
        return {s: self.tally.errors[s] for s in self.systems}

    def sample_counts(self) -> dict[str, int]:
        return {s: self.tally.samples[s] for s in self.systems}

    def tags(self) -> list[str]:
        found = self.stats.tag_flags
        return [t for t in found if t != UNTAGGED] + ([UNTAGGED] if UNTAGGED in found and len(found) > 1 else [])

    def tag_sizes(self) -> dict[str, int]:
        """Examples per tag (counted once per example, not per system)."""
        return self.stats.tag_counts()

    def tag_means(self, metric: str) -> dict[str, dict[str, tuple[float | None, int]]]:
        """{system: {tag: (mean of ok values, n)}}; an example counts in each of its tags."""
        sums = self.stats.tag_sums
        table: dict[str, dict[str, tuple[float | None, int]]] = {}
        tags = self.tags()
        for system in self.systems:
            table[system] = {}
            for tag in tags:
                total, n = sums.get((system, tag, metric), (0, 0))
                table[system][tag] = (total / n if n else None, int(n))
        return table

    def latency(self) -> dict[str, dict[str, Any]]:
        """Per system with successful samples: every total latency (s), and the mean retrieval
        and generation seconds over the samples that report them (0 when none does)."""
        out = {}
        latencies = self.stats.latency.latencies  # the successful samples' total latencies
        for system in self.systems:
            if system in latencies:
                split = self.stats.split[system]
                out[system] = {
                    "total": latencies[system],
                    **{key: (cell[0] / cell[1] if cell[1] else 0.0) for key, cell in split.items()},
                }
        return out


def pareto_front(points: dict[str, tuple[float, float]], quality_up: bool = True, cost_up: bool = False) -> list[str]:
    """Names not dominated on (cost, quality); `*_up`: higher is better on that axis. Sorted by cost."""

    def better(up: bool, a: float, b: float) -> bool:
        return a > b if up else a < b

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        no_worse = not better(cost_up, b[0], a[0]) and not better(quality_up, b[1], a[1])
        return no_worse and (a != b)

    front = [n for n, p in points.items() if not any(dominates(q, p) for m, q in points.items() if m != n)]
    return sorted(front, key=lambda n: points[n][0])
