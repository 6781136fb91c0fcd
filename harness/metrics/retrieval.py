"""Retrieval metrics on document ids, with trec_eval's definitions, vectorised over queries.

A response's chunk hits are mapped to documents (first occurrence kept, rank order) by
`Response.retrieved_doc_ids`. Relevance is graded from `Example.reference_relevance` when given,
else binary from `Example.reference_doc_ids`. A document is relevant when its grade is > 0
(trec_eval's default relevance level for integer grades), or >= `relevance_level` when set
(trec_eval -l): recall, precision, MRR and hit use that; nDCG keeps every grade > 0 as its gain.
Rankings are scored in rank order; systems that report scores are ranked by them, trec_eval's
way, before they get here (harness.ranking).

- recall@k    relevant in top k / relevant
- precision@k relevant in top k / k (k even when fewer were retrieved, as trec_eval P_k)
- mrr         1 / rank of the first relevant document (0 when none is retrieved)
- ndcg@k      trec_eval ndcg_cut_k: DCG@k (gain / log2(rank + 1)) / ideal DCG@k from the qrels
- hit@k       1 when any relevant document is in the top k
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Mapping, Sequence

from pydantic import Field, field_validator

from harness.metrics.base import Metric, MetricConfig, MetricContext, finite_or_error, metric_type
from harness.runtime.offloop import import_off_loop
from harness.types import Example, Response, Score

if TYPE_CHECKING:
    import numpy as np

MeasureName = Literal["recall", "precision", "mrr", "ndcg", "hit"]
ALL_MEASURES: tuple[MeasureName, ...] = ("recall", "precision", "mrr", "ndcg", "hit")


@dataclass
class RetrievalBatch:
    """Per-query values (one array per score name), the number of relevant documents (at the
    relevance level) and the number with a grade > 0 (what nDCG counts).

    Rows with `n_relevant == 0` hold 0 in the binary measures and rows with `n_graded == 0` hold 0
    in nDCG; callers report them as undefined.
    """

    values: dict[str, np.ndarray]
    n_relevant: np.ndarray
    n_graded: np.ndarray


def score_names(ks: Sequence[int], measures: Sequence[str] = ALL_MEASURES) -> list[str]:
    names: list[str] = []
    for measure in measures:
        if measure == "mrr":
            names.append("mrr")
        else:
            names.extend(f"{measure}@{k}" for k in ks)
    return names


def gains_matrix(
    runs: Sequence[Sequence[str]],
    qrels: Sequence[Mapping[str, float]],
    depth: int | None = None,
    assume_unique: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(gains, ideal): gains[q, r] = grade of the document at rank r + 1 (later duplicates of a
    document dropped, grades <= 0 as 0, zero-padded); ideal[q] = the query's grades, descending.

    Only relevant documents are looked up (a few per query), so the Python work per query is small;
    `depth` caps the ranks considered (None: all, as MRR needs). `assume_unique` skips the
    de-duplication when the caller guarantees each run lists a document once (as
    `Response.retrieved_doc_ids` does).
    """
    import numpy as np
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    ideal_rows: list[int] = []
    ideal_cols: list[int] = []
    ideal_vals: list[float] = []
    for i, (run, rel) in enumerate(zip(runs, qrels)):
        if not rel:
            continue
        grades = sorted((g for g in rel.values() if g > 0), reverse=True)
        if not grades:
            continue
        ideal_rows.extend([i] * len(grades))
        ideal_cols.extend(range(len(grades)))
        ideal_vals.extend(grades)
        order = None if assume_unique else dict.fromkeys(run)  # first occurrence kept, rank order
        ranked = run if assume_unique else None
        for doc, grade in rel.items():
            if grade <= 0 or (order is not None and doc not in order):
                continue
            if ranked is None:
                ranked = list(order)  # type: ignore[arg-type]
            try:
                col = ranked.index(doc)
            except ValueError:
                continue
            if depth is None or col < depth:
                rows.append(i)
                cols.append(col)
                vals.append(float(grade))
    n = len(runs)
    gains = np.zeros((n, max(cols, default=0) + 1), dtype=np.float64)
    gains[rows, cols] = vals
    ideal = np.zeros((n, max(ideal_cols, default=0) + 1), dtype=np.float64)
    ideal[ideal_rows, ideal_cols] = ideal_vals
    return gains, ideal


def metrics_from_gains(
    gains: np.ndarray,
    ideal: np.ndarray,
    ks: Sequence[int],
    measures: Sequence[str] = ALL_MEASURES,
    relevance_level: float | None = None,
) -> RetrievalBatch:
    """The vectorised core: every measure for every query from the gain matrices.

    `relevance_level`: grades at or above it are relevant for the binary measures (None: > 0)."""
    import numpy as np
    n, width = gains.shape
    ks = sorted(set(int(k) for k in ks))
    kmax = max(ks) if ks else 1
    relevant = gains >= relevance_level if relevance_level is not None else gains > 0
    n_relevant = (ideal >= relevance_level if relevance_level is not None else ideal > 0).sum(axis=1)
    n_graded = (ideal > 0).sum(axis=1)
    safe_rel = np.maximum(n_relevant, 1)
    # cumulative relevant count and DCG up to each cutoff (padded past the run's end)
    pad = max(0, kmax - width)
    rel_cut = np.pad(relevant[:, :kmax], ((0, 0), (0, pad)))
    gain_cut = np.pad(gains[:, :kmax], ((0, 0), (0, pad)))
    ideal_cut = np.pad(ideal[:, :kmax], ((0, 0), (0, max(0, kmax - ideal.shape[1]))))
    discount = 1.0 / np.log2(np.arange(2, kmax + 2, dtype=np.float64))
    hits_cum = np.cumsum(rel_cut, axis=1, dtype=np.float64)
    dcg_cum = np.cumsum(gain_cut * discount, axis=1)
    idcg_cum = np.cumsum(ideal_cut * discount, axis=1)
    values: dict[str, np.ndarray] = {}
    for measure in measures:
        if measure == "mrr":
            any_rel = relevant.any(axis=1)
            first = relevant.argmax(axis=1)
            values["mrr"] = np.where(any_rel, 1.0 / (first + 1.0), 0.0)
            continue
        for k in ks:
            hits = hits_cum[:, k - 1]
            if measure == "recall":
                values[f"recall@{k}"] = hits / safe_rel
            elif measure == "precision":
                values[f"precision@{k}"] = hits / k
            elif measure == "hit":
                values[f"hit@{k}"] = (hits > 0).astype(np.float64)
            elif measure == "ndcg":
                idcg = idcg_cum[:, k - 1]
                values[f"ndcg@{k}"] = np.divide(
                    dcg_cum[:, k - 1], idcg, out=np.zeros(n, dtype=np.float64), where=idcg > 0
                )
    for name, array in values.items():
        array[(n_graded if name.startswith("ndcg@") else n_relevant) == 0] = 0.0
    return RetrievalBatch(values=values, n_relevant=n_relevant, n_graded=n_graded)


def retrieval_batch(
    runs: Sequence[Sequence[str]],
    qrels: Sequence[Mapping[str, float]],
    ks: Sequence[int],
    measures: Sequence[str] = ALL_MEASURES,
    assume_unique: bool = False,
    relevance_level: float | None = None,
) -> RetrievalBatch:
    """Every measure for many queries: runs[q] = doc ids in rank order, qrels[q] = {doc: grade}.

    Duplicate ids in a run count once, at their first rank (unless `assume_unique`)."""
    if len(runs) != len(qrels):
        raise ValueError(f"{len(runs)} runs but {len(qrels)} qrels")
    need_full = "mrr" in measures
    depth = None if need_full else max(ks)
    gains, ideal = gains_matrix(runs, qrels, depth=depth, assume_unique=assume_unique)
    return metrics_from_gains(gains, ideal, ks, measures, relevance_level)


def relevance_of(example: Example) -> dict[str, float]:
    if example.reference_relevance:
        return {doc: float(grade) for doc, grade in example.reference_relevance.items()}
    return {doc: 1.0 for doc in example.reference_doc_ids}


class RetrievalConfig(MetricConfig):
    type: Literal["retrieval"]
    k: list[int] = Field(default_factory=lambda: [1, 3, 5, 10], description="Cutoffs for the @k measures.")
    measures: list[MeasureName] = Field(default_factory=lambda: list(ALL_MEASURES))
    relevance_level: float | None = Field(
        None,
        gt=0,
        description="Grades at or above this count as relevant for recall, precision, MRR and hit "
        "(trec_eval -l); lower grades count as non-relevant. nDCG keeps the grades. Default: any grade > 0.",
    )

    @field_validator("k")
    @classmethod
    def _positive(cls, ks: list[int]) -> list[int]:
        if not ks or any(k < 1 for k in ks):
            raise ValueError("k must be a non-empty list of integers >= 1")
        return sorted(set(ks))


class RetrievalMetrics(Metric):
    group = "retrieval"
    bounded = True  # never waits; linear in the output

    def __init__(self, config: RetrievalConfig, context: MetricContext | None = None):
        self.config = config
        self.names = score_names(config.k, config.measures)

    async def score(self, example: Example, response: Response) -> list[Score]:
        await import_off_loop("numpy")  # its first import is not for the event loop to wait on
        return self.score_sync(example, response)

    def score_sync(self, example: Example, response: Response) -> list[Score]:
        docs = response.retrieved_doc_ids
        if docs is None:
            return [Score.undefined(n, "system does not retrieve") for n in self.names]
        relevance = relevance_of(example)
        if not any(g > 0 for g in relevance.values()):
            return [Score.undefined(n, "no relevant documents") for n in self.names]
        level = self.config.relevance_level
        batch = retrieval_batch(
            [docs], [relevance], self.config.k, self.config.measures, assume_unique=True, relevance_level=level
        )
        detail = {"retrieved": len(docs), "relevant": int(batch.n_relevant[0])}
        scores = []
        for name in self.names:
            if batch.n_relevant[0] == 0 and not name.startswith("ndcg@"):
                scores.append(Score.undefined(name, f"no documents with relevance grade >= {level:g}"))
            else:
                scores.append(finite_or_error(name, float(batch.values[name][0]), **detail))
        return scores


metric_type("retrieval", RetrievalConfig)(RetrievalMetrics)
