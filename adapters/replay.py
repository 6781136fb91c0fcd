"""`kind: replay` - outputs produced elsewhere, read from a JSONL keyed by example id.

Lets a team score a system the harness cannot call (a batch job, another team's service) on
exactly the same metrics as the rest.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from harness.datasets import read_jsonl
from harness.errors import ConfigError, DatasetError
from harness.metrics.extract import get_path, parse_json
from harness.systems import SystemConfig, SystemContext, system_kind
from harness.types import Example, Response, RetrievedChunk, Timings


class ReplayConfig(SystemConfig):
    kind: Literal["replay"]
    path: str = Field(..., description="JSONL file, one object per example.")
    id_field: str = "id"
    output_field: str = "output"
    retrieved_ids_field: str | None = Field(None, description="List of document ids, best first.")
    latency_field: str | None = None
    model_name: str | None = None


class ReplaySystem:
    def __init__(self, config: ReplayConfig, context: SystemContext):
        self.config = config
        self.context = context
        self.rows = self._load()
        self.warnings = coverage_warnings(set(self.rows), context)

    def _load(self) -> dict[str, dict[str, Any]]:
        where = self.context.where("path")
        path = self.context.suite.resolve(self.config.path, where=where)
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}", where=where)
        rows: dict[str, dict[str, Any]] = {}
        try:
            for position, row in read_jsonl(path):
                key = get_path(row, self.config.id_field)
                if key is None:
                    raise ConfigError(f"{position}: no {self.config.id_field!r} field", where=where)
                if str(key) in rows:
                    raise ConfigError(f"{position}: duplicate id {key!r}", where=where)
                rows[str(key)] = row
        except DatasetError as error:
            raise ConfigError(str(error), where=where) from None
        return rows

    async def respond(self, example: Example) -> Response:
        row = self.rows.get(example.id)
        if row is None:
            raise LookupError(f"no replayed output for example id {example.id!r}")
        output = get_path(row, self.config.output_field)
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        retrieved = None
        if self.config.retrieved_ids_field:
            ids = get_path(row, self.config.retrieved_ids_field) or []
            retrieved = [RetrievedChunk(chunk_id=str(i), doc_id=str(i), rank=n) for n, i in enumerate(ids, 1)]
        latency = float(get_path(row, self.config.latency_field) or 0.0) if self.config.latency_field else 0.0
        return Response(
            text=text or "",
            parsed=parse_json(text)[0] if self.context.suite.answer_format and text else None,
            retrieved=retrieved,
            usage=None,
            cost_usd=None,
            timings=Timings(total_s=latency),
            model=self.config.model_name or "replay",
        )


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
