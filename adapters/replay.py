"""`kind: replay` - outputs produced elsewhere, read from a JSONL keyed by example id.

Lets a team score a system the harness cannot call (a batch job, another team's service) on
exactly the same metrics as the rest. Retrieved documents are ids best first, or `{id, score}`
objects ranked by score as trec_eval ranks a run (harness.ranking); every ranking is read and
checked when the file loads, so a bad one stops the run before it starts.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from harness.data.datasets import read_jsonl
from harness.errors import ConfigError, DatasetError
from harness.metrics.extract import get_path, parse_json
from harness.ranking import Ranking, RankingTally, parse_ranking
from harness.systems import System, SystemConfig, SystemContext, system_kind
from harness.types import Example, Response, Timings


class ReplayConfig(SystemConfig):
    kind: Literal["replay"]
    path: str = Field(..., description="JSONL file, one object per example.")
    id_field: str = "id"
    output_field: str = "output"
    retrieved_ids_field: str | None = Field(
        None,
        description="List of document ids, best first, or of {id, score[, text]} objects "
        "(ranked by score descending, ties by id descending, as trec_eval does).",
    )
    latency_field: str | None = None
    model_name: str | None = None


class ReplaySystem(System):
    def __init__(self, config: ReplayConfig, context: SystemContext):
        self.config = config
        self.context = context
        self.tally = RankingTally(where=context.where())
        self.rankings: dict[str, Ranking] = {}
        self.rows = self._load()
        self.warnings = coverage_warnings(set(self.rows), context) + self.tally.warnings()

    def _load(self) -> dict[str, dict[str, Any]]:
        where = self.context.where("path")
        path = self.context.suite.resolve(self.config.path, where=where)
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}", where=where)
        rows: dict[str, dict[str, Any]] = {}
        evaluated = {e.id for e in self.context.test}
        try:
            for position, row in read_jsonl(path):
                key = get_path(row, self.config.id_field)
                if key is None:
                    raise ConfigError(f"{position}: no {self.config.id_field!r} field", where=where)
                if str(key) in rows:
                    raise ConfigError(f"{position}: duplicate id {key!r}", where=where)
                rows[str(key)] = row
                if self.config.retrieved_ids_field:
                    self.rankings[str(key)] = self._ranking(row, position, where, counted=str(key) in evaluated)
        except DatasetError as error:
            raise ConfigError(str(error), where=where) from None
        return rows

    def _ranking(self, row: dict[str, Any], position: str, where: str, *, counted: bool) -> Ranking:
        """Every row's ranking is checked; the warnings count the rows this run evaluates."""
        try:
            ranking = parse_ranking(get_path(row, self.config.retrieved_ids_field or ""))
        except ValueError as error:
            raise ConfigError(f"{position}: {self.config.retrieved_ids_field}: {error}", where=where) from None
        if counted:
            self.tally.add(ranking)
        return ranking

    async def respond(self, example: Example) -> Response:
        row = self.rows.get(example.id)
        if row is None:
            raise LookupError(f"no replayed output for example id {example.id!r}")
        output = get_path(row, self.config.output_field)
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        ranking = self.rankings.get(example.id)
        latency = float(get_path(row, self.config.latency_field) or 0.0) if self.config.latency_field else 0.0
        response = Response(
            text=text or "",
            parsed=parse_json(text)[0] if self.context.suite.answer_format and text else None,
            retrieved=ranking.chunks() if ranking is not None else None,
            usage=None,
            cost_usd=None,
            timings=Timings(total_s=latency),
            model=self.config.model_name or "replay",
        )
        if ranking is not None:
            response.metadata["ranking"] = ranking.record()
        return response


def coverage_warnings(replayed: set[str], context: SystemContext) -> list[str]:
    """Rows and test examples that do not meet: a test example without a row scores `error`; a row
    whose id is nowhere in the dataset is never used. No overlap at all is an error (a wrong
    `id_field`, or the file of another dataset)."""
    where = context.where("path")
    if not replayed:
        raise ConfigError("the replay file holds no rows", where=where)
    test_ids = [e.id for e in context.test]
    unanswered = [i for i in test_ids if i not in replayed]
    if test_ids and len(unanswered) == len(test_ids):
        raise ConfigError(
            f"none of the {len(replayed)} rows has the id of one of the {len(test_ids)} test examples "
            "(check id_field, and that the file belongs to this dataset)",
            where=where,
        )
    known = context.extras.get("dataset_ids") or {*test_ids, *(e.id for e in context.train)}
    strangers = sorted(replayed - set(known))
    warnings = []
    if unanswered:
        warnings.append(
            f"{where}: {len(unanswered)} of {len(test_ids)} test examples have no row; they score error "
            f"({_first(unanswered)})"
        )
    if strangers:
        warnings.append(
            f"{where}: {len(strangers)} of {len(replayed)} rows have ids that are not in the dataset ({_first(strangers)})"
        )
    return warnings


def _first(ids: list[str], n: int = 5) -> str:
    return ", ".join(ids[:n]) + (" ..." if len(ids) > n else "")


system_kind("replay", ReplayConfig)(ReplaySystem)
