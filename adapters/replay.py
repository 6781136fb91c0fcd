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

from harness.datasets import read_jsonl
from harness.errors import ConfigError
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
        self.warnings = self.tally.warnings()

    def _load(self) -> dict[str, dict[str, Any]]:
        path = self.context.suite.resolve(self.config.path)
        where = self.context.where("path")
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}", where=where)
        rows: dict[str, dict[str, Any]] = {}
        evaluated = {e.id for e in self.context.test}
        for position, row in read_jsonl(path):
            key = get_path(row, self.config.id_field)
            if key is None:
                raise ConfigError(f"{position}: no {self.config.id_field!r} field", where=where)
            if str(key) in rows:
                raise ConfigError(f"{position}: duplicate id {key!r}", where=where)
            rows[str(key)] = row
            if self.config.retrieved_ids_field:
                self.rankings[str(key)] = self._ranking(row, position, where, counted=str(key) in evaluated)
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


system_kind("replay", ReplayConfig)(ReplaySystem)
