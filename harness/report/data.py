"""One read of a run directory shared by tables, charts, HTML and the notebook API.

Everything here comes from the run's files only (run.json, summary.csv, samples.jsonl), so
reports can be regenerated at any time without re-running a model. Metric names and system
kinds are treated generically: direction and "quality vs cost" come from naming rules.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.compare.direction import higher_is_better
from harness.errors import HarnessError
from harness.rundir import RunDir
from harness.summary import summarise

# Preferred headline metrics (first present wins); otherwise the first quality metric.
HEADLINE = ["exact_match", "contains_answer", "token_f1", "factual_correctness", "faithfulness",
            "json_schema", "field_accuracy", "semantic_similarity", "recall@5"]
KIND_COLOURS = {
    "prompt": "#4C72B0", "few_shot": "#DD8452", "rag": "#55A868", "finetuned": "#C44E52",
    "hybrid": "#8172B3", "oracle": "#937860", "replay": "#7F7F7F", "custom": "#DA8BC3",
}
_SPARE = ["#CCB974", "#64B5CD", "#8C564B", "#17BECF", "#BCBD22", "#E377C2"]
UNTAGGED = "(untagged)"


def lower_is_better(metric: str) -> bool:
    """Cost-side numbers (time, money, tokens, errors); the rule compare and gate use too."""
    return not higher_is_better(metric)


def better(metric: str, a: float, b: float) -> bool:
    return a < b if lower_is_better(metric) else a > b


def fmt(metric: str, value: float | None) -> str:
    """Three decimals for 0..1 quality scores, three significant digits for everything else."""
    if value is None:
        return "n/a"
    if not lower_is_better(metric) and 0.0 <= value <= 1.0:
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


def _number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


@dataclass
class RunData:
    path: Path
    header: dict[str, Any]
    summary: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    _cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    _systems: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> "RunData":
        path = Path(path)
        if not path.is_dir():
            raise HarnessError("no such run directory", where=str(path))
        run = RunDir.open(path)
        header = run.read_header().model_dump(mode="json")
        samples = list(run.iter_sample_dicts())
        summary_file = path / RunDir.SUMMARY
        if summary_file.is_file():
            summary = _read_summary(summary_file)
        else:  # an interrupted run killed before finish(): aggregate what is there
            settings = header.get("settings", {})
            summary = [r.model_dump() for r in summarise(samples, seed=int(settings.get("seed", 0)),
                                                           system_order=list(header.get("systems", {})))]
        return cls(path, header, summary, samples)

    def __post_init__(self) -> None:
        self._cells = {(r["system"], r["metric"]): r for r in self.summary}
        names = dict.fromkeys(self.header.get("systems", {}))  # header order first (the suite's),
        names.update(dict.fromkeys(r["system"] for r in self.summary + self.samples))  # then any other
        self._systems = list(names)

    @property
    def systems(self) -> list[str]:
        return list(self._systems)

    @property
    def kinds(self) -> dict[str, str]:
        declared = self.header.get("systems", {})
        return {s: str(declared.get(s, {}).get("kind", "unknown")) for s in self.systems}

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
        return [m for m in self.metrics if not lower_is_better(m)]

    def headline(self) -> str | None:
        main = self.main_metrics()
        return next((m for m in HEADLINE if m in main), main[0] if main else None)

    def cell(self, system: str, metric: str) -> dict[str, Any] | None:
        return self._cells.get((system, metric))

    def mean(self, system: str, metric: str) -> float | None:
        row = self.cell(system, metric)
        return None if row is None else row["mean"]

    def best(self, metric: str) -> set[str]:
        """Systems with the best mean (ties all win); empty when there is nothing to choose:
        fewer than two systems with a value, or all of them equal."""
        means = {s: m for s in self.systems if (m := self.mean(s, metric)) is not None}
        top = min(means.values(), default=None) if lower_is_better(metric) else max(means.values(), default=None)
        winners = {s for s, m in means.items() if m == top}
        return set() if len(means) < 2 or winners == set(means) else winners

    def errors(self) -> dict[str, int]:
        counts = {s: 0 for s in self.systems}
        for row in self.samples:
            if row.get("response", {}).get("error"):
                counts[row["system"]] = counts.get(row["system"], 0) + 1
        return counts

    def sample_counts(self) -> dict[str, int]:
        counts = {s: 0 for s in self.systems}
        for row in self.samples:
            counts[row["system"]] = counts.get(row["system"], 0) + 1
        return counts

    def tags(self) -> list[str]:
        found: dict[str, None] = {}
        for row in self.samples:
            for tag in row["example"].get("tags") or [UNTAGGED]:
                found.setdefault(str(tag), None)
        return [t for t in found if t != UNTAGGED] + ([UNTAGGED] if UNTAGGED in found and len(found) > 1 else [])

    def tag_sizes(self) -> dict[str, int]:
        """Examples per tag (counted once per example, not per system)."""
        seen: dict[str, set[str]] = {}
        for row in self.samples:
            for tag in row["example"].get("tags") or [UNTAGGED]:
                seen.setdefault(str(tag), set()).add(row["example"]["id"])
        return {t: len(ids) for t, ids in seen.items()}

    def tag_means(self, metric: str) -> dict[str, dict[str, tuple[float | None, int]]]:
        """{system: {tag: (mean of ok values, n)}}; an example counts in each of its tags."""
        values: dict[tuple[str, str], list[float]] = {}
        for row in self.samples:
            score = row.get("scores", {}).get(metric)
            if not score or score.get("status") != "ok" or score.get("value") is None:
                continue
            for tag in row["example"].get("tags") or [UNTAGGED]:
                values.setdefault((row["system"], str(tag)), []).append(float(score["value"]))
        table: dict[str, dict[str, tuple[float | None, int]]] = {}
        tags = self.tags()
        for system in self.systems:
            table[system] = {}
            for tag in tags:
                got = values.get((system, tag), [])
                table[system][tag] = (sum(got) / len(got) if got else None, len(got))
        return table

    def examples(self) -> list[dict[str, Any]]:
        """Each example once, in the order samples first mention it."""
        seen: dict[str, dict[str, Any]] = {}
        for row in self.samples:
            seen.setdefault(row["example"]["id"], row["example"])
        return list(seen.values())

    def by_example(self) -> dict[str, dict[str, dict[str, Any]]]:
        table: dict[str, dict[str, dict[str, Any]]] = {}
        for row in self.samples:
            table.setdefault(row["example"]["id"], {})[row["system"]] = row
        return table


def pareto_front(points: dict[str, tuple[float, float]], quality: str, cost: str) -> list[str]:
    """Names not dominated on (cost, quality), direction-aware; sorted by cost."""

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        no_worse = not better(cost, b[0], a[0]) and not better(quality, b[1], a[1])
        return no_worse and (a != b)

    front = [n for n, p in points.items() if not any(dominates(q, p) for m, q in points.items() if m != n)]
    return sorted(front, key=lambda n: points[n][0])


def _read_summary(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return [
            {
                "system": r["system"], "metric": r["metric"],
                "mean": _number(r["mean"]), "ci_low": _number(r["ci_low"]), "ci_high": _number(r["ci_high"]),
                "n": int(r["n"] or 0), "n_undefined": int(r["n_undefined"] or 0), "n_error": int(r["n_error"] or 0),
            }
            for r in rows
        ]
    except (KeyError, ValueError) as error:
        raise HarnessError(f"unreadable {RunDir.SUMMARY}: {error}", where=str(path)) from None
