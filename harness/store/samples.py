"""Filtering a run's examples in the store: by tag, by a metric's status (for one system or any),
and by a `where` expression across systems; and the scores of a page of examples.

Everything runs as one SQL query per filter: each condition is an uncorrelated `IN (subquery)`
over an index of the scores table, so a filter over a 10,000-sample run answers in tens of
milliseconds on SQLite and PostgreSQL alike. Text
search needs the texts, which stay in the run directory; the viewer applies it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from harness.store.database import RunStore
from harness.store.where import All, Any_, Compare, Expr, Not, StatusIs, WhereError, check, parse

EPSILON = 1e-9  # `=` on a stored float: within this of the number


@dataclass(frozen=True)
class SampleFilter:
    tag: str | None = None
    metric: str | None = None
    status: str | None = None  # ok | undefined | error
    system: str | None = None  # restricts metric/status to one system
    where: str | None = None
    text: str | None = None  # applied by the caller, over the run directory's texts

    @property
    def active(self) -> bool:
        return any((self.tag, self.metric, self.status, self.system, self.where, self.text))


def _ids_where(*conditions: Any) -> Any:
    """The example ids of the scores matching `conditions`: one uncorrelated subquery, run once
    (an index range scan), not once per example."""
    from sqlalchemy import select

    from harness.store.schema import scores

    return select(scores.c.example_id).where(*conditions)


def _condition(expr: Expr, run_id: str, example_id: Any) -> Any:
    from sqlalchemy import and_, not_, or_

    from harness.store.schema import scores

    if isinstance(expr, All):
        return and_(*(_condition(e, run_id, example_id) for e in expr.items))
    if isinstance(expr, Any_):
        return or_(*(_condition(e, run_id, example_id) for e in expr.items))
    if isinstance(expr, Not):
        return not_(_condition(expr.item, run_id, example_id))
    match = [scores.c.run_id == run_id, scores.c.system == expr.system, scores.c.metric == expr.metric]
    if isinstance(expr, StatusIs):
        found = example_id.in_(_ids_where(*match, scores.c.status == expr.status))
        return not_(found) if expr.negate else found
    assert isinstance(expr, Compare)
    value, column = expr.value, scores.c.value
    test = {
        "=": column.between(value - EPSILON, value + EPSILON),
        "!=": or_(column < value - EPSILON, column > value + EPSILON),
        "<": column < value, "<=": column <= value + EPSILON, ">": column > value, ">=": column >= value - EPSILON,
    }[expr.op]
    return example_id.in_(_ids_where(*match, scores.c.status == "ok", test))


def filter_examples(store: RunStore, run_id: str, spec: SampleFilter, *, systems: Iterable[str] = (),
                    metrics: Iterable[str] = ()) -> list[str]:
    """Example ids (in run order) that pass every condition of `spec` but its text search.
    `systems` and `metrics` (the run's) let a `where` naming something else fail clearly."""
    from sqlalchemy import select

    from harness.store.schema import example_tags, examples, samples, scores

    example_id = examples.c.example_id
    query = select(example_id).where(examples.c.run_id == run_id)
    if spec.tag:
        query = query.where(example_id.in_(select(example_tags.c.example_id).where(
            example_tags.c.run_id == run_id, example_tags.c.tag == spec.tag)))
    if spec.metric or spec.status:
        match = [scores.c.run_id == run_id]
        if spec.metric:
            match.append(scores.c.metric == spec.metric)
        if spec.status:
            if spec.status not in ("ok", "undefined", "error"):
                raise WhereError(f"unknown status {spec.status!r} (ok, undefined or error)")
            match.append(scores.c.status == spec.status)
        if spec.system:
            match.append(scores.c.system == spec.system)
        query = query.where(example_id.in_(_ids_where(*match)))
    elif spec.system:
        query = query.where(example_id.in_(select(samples.c.example_id).where(
            samples.c.run_id == run_id, samples.c.system == spec.system)))
    if spec.where and spec.where.strip():
        expr = parse(spec.where)
        check(expr, systems, metrics)
        query = query.where(_condition(expr, run_id, example_id))
    query = query.order_by(examples.c.position)
    with store.read() as connection:
        return list(connection.execute(query).scalars())


def example_count(store: RunStore, run_id: str) -> int:
    from sqlalchemy import func, select

    from harness.store.schema import examples

    with store.read() as connection:
        return int(connection.execute(select(func.count()).where(examples.c.run_id == run_id)).scalar() or 0)


def tags(store: RunStore, run_id: str) -> list[tuple[str, int]]:
    """The run's tags with how many examples carry each, most common first."""
    from sqlalchemy import func, select

    from harness.store.schema import example_tags

    query = (select(example_tags.c.tag, func.count().label("n")).where(example_tags.c.run_id == run_id)
             .group_by(example_tags.c.tag).order_by(func.count().desc(), example_tags.c.tag))
    with store.read() as connection:
        return [(r.tag, int(r.n)) for r in connection.execute(query)]


def page_scores(store: RunStore, run_id: str, example_ids: list[str], metric: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(example id, system) -> {status, value} of one metric, for a page of examples."""
    from sqlalchemy import select

    from harness.store.schema import scores

    if not example_ids or not metric:
        return {}
    query = select(scores.c.example_id, scores.c.system, scores.c.status, scores.c.value).where(
        scores.c.run_id == run_id, scores.c.metric == metric, scores.c.example_id.in_(example_ids))
    with store.read() as connection:
        return {(r.example_id, r.system): {"status": r.status, "value": r.value} for r in connection.execute(query)}


def page_examples(store: RunStore, run_id: str, example_ids: list[str]) -> dict[str, dict[str, Any]]:
    """example id -> {tags, snippet} for a page of examples."""
    import json

    from sqlalchemy import select

    from harness.store.schema import examples

    if not example_ids:
        return {}
    query = select(examples.c.example_id, examples.c.tags, examples.c.snippet).where(
        examples.c.run_id == run_id, examples.c.example_id.in_(example_ids))
    with store.read() as connection:
        return {r.example_id: {"tags": json.loads(r.tags), "snippet": r.snippet} for r in connection.execute(query)}


def example_scores(store: RunStore, run_id: str, example_id: str) -> list[dict[str, Any]]:
    """Every score the store keeps for one example (system, metric, status, value): what the
    side-by-side view can still show when the run directory is gone."""
    from sqlalchemy import select

    from harness.store.schema import scores

    query = select(scores.c.system, scores.c.metric, scores.c.status, scores.c.value).where(
        scores.c.run_id == run_id, scores.c.example_id == example_id)
    with store.read() as connection:
        return [dict(r._mapping) for r in connection.execute(query)]
