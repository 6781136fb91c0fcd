"""Retrieval metrics agree with trec_eval (pytrec_eval) on random runs and on the edge cases."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from harness.metrics.retrieval import RetrievalConfig, RetrievalMetrics, retrieval_batch, score_names
from harness.types import Example, Response, RetrievedChunk

pytrec_eval = pytest.importorskip("pytrec_eval")

KS = [1, 3, 5, 10]
TREC = {"recall": "recall", "precision": "P", "ndcg": "ndcg_cut", "hit": "success"}


def trec_scores(runs: list[list[str]], qrels: list[dict[str, int]]) -> list[dict[str, float]]:
    """trec_eval's values, renamed to ours; rank r gets score -r so trec_eval keeps our order."""
    measures = {f"{m}.{','.join(map(str, KS))}" for m in TREC.values()} | {"recip_rank"}
    qrel = {f"q{i}": {d: int(g) for d, g in rel.items()} for i, rel in enumerate(qrels)}
    run = {f"q{i}": {d: float(len(r) - j) for j, d in enumerate(dict.fromkeys(r))} for i, r in enumerate(runs)}
    result = pytrec_eval.RelevanceEvaluator(qrel, measures).evaluate(run)
    out = []
    for i in range(len(runs)):
        row = result[f"q{i}"]
        ours = {"mrr": row["recip_rank"]}
        for name, trec in TREC.items():
            ours.update({f"{name}@{k}": row[f"{trec}_{k}"] for k in KS})
        out.append(ours)
    return out


def assert_match(runs: list[list[str]], qrels: list[dict[str, int]]) -> None:
    batch = retrieval_batch(runs, qrels, KS)
    expected = trec_scores(runs, qrels)
    for name in score_names(KS):
        got = batch.values[name]
        want = np.array([e[name] for e in expected])
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=name)


def random_case(rng: random.Random, graded: bool) -> tuple[list[str], dict[str, int]]:
    pool = [f"d{j}" for j in range(40)]
    n_rel = rng.randint(1, 8)
    qrel = {d: (rng.randint(1, 3) if graded else 1) for d in rng.sample(pool, n_rel)}
    for d in rng.sample(pool, 3):  # judged non-relevant documents
        qrel.setdefault(d, 0)
    run = rng.sample(pool, rng.randint(0, 25))
    return run, qrel


@pytest.mark.parametrize("graded", [False, True])
def test_random_runs_match_trec_eval(graded: bool) -> None:
    rng = random.Random(7 + graded)
    cases = [random_case(rng, graded) for _ in range(500)]
    assert_match([c[0] for c in cases], [c[1] for c in cases])


def test_edge_cases_match_trec_eval() -> None:
    runs = [
        ["a"],  # fewer retrieved than k: P@5 still divides by 5
        [],  # empty retrieval is a real 0
        ["x", "y", "z", "a"],  # relevant found late
        ["b", "a", "c"],  # graded: best document second
        ["n1", "n2"],  # nothing relevant retrieved
    ]
    qrels = [{"a": 1}, {"a": 1}, {"a": 1, "b": 1}, {"a": 3, "b": 1, "c": 2}, {"a": 1, "n1": 0}]
    assert_match(runs, qrels)
    batch = retrieval_batch(runs, qrels, KS)
    assert batch.values["precision@5"][0] == pytest.approx(0.2)
    assert batch.values["mrr"][2] == pytest.approx(0.25)


def test_duplicate_doc_ids_keep_first_occurrence() -> None:
    # chunks c1, c2 of doc a and c3 of doc b: documents are [a, b]
    batch = retrieval_batch([["a", "a", "b"]], [{"b": 1}], [1, 2])
    assert batch.values["precision@2"][0] == 0.5 and batch.values["mrr"][0] == 0.5
    assert_match([["a", "b"]], [{"b": 1}])


def chunks(*docs: str) -> list[RetrievedChunk]:
    return [RetrievedChunk(chunk_id=f"{d}#{i}", doc_id=d, rank=i + 1, text="t") for i, d in enumerate(docs)]


def run_metric(example: Example, response: Response, k: list[int] | None = None):
    metric = RetrievalMetrics(RetrievalConfig(type="retrieval", k=k or [1, 3, 5]))
    return {s.name: s for s in asyncio.run(metric.score(example, response))}


def test_metric_statuses_and_names() -> None:
    example = Example(id="e", input="q", reference_doc_ids=["b"])
    scores = run_metric(example, Response(retrieved=chunks("a", "a", "b")))
    assert list(scores) == ["recall@1", "recall@3", "recall@5", "precision@1", "precision@3", "precision@5",
                            "mrr", "ndcg@1", "ndcg@3", "ndcg@5", "hit@1", "hit@3", "hit@5"]  # fmt: skip
    assert scores["mrr"].value == 0.5 and scores["precision@3"].value == pytest.approx(1 / 3)
    assert scores["hit@1"].value == 0.0 and scores["hit@3"].value == 1.0
    assert all(s.status == "ok" for s in scores.values())

    none = run_metric(example, Response(retrieved=None))
    assert {(s.status, s.reason) for s in none.values()} == {("undefined", "system does not retrieve")}
    empty = run_metric(example, Response(retrieved=[]))
    assert all(s.status == "ok" and s.value == 0.0 for s in empty.values())
    no_rel = run_metric(Example(id="e", input="q"), Response(retrieved=chunks("a")))
    assert {(s.status, s.reason) for s in no_rel.values()} == {("undefined", "no relevant documents")}
    zero_graded = run_metric(Example(id="e", input="q", reference_relevance={"a": 0}), Response(retrieved=chunks("a")))
    assert {s.status for s in zero_graded.values()} == {"undefined"}


def test_chunk_rank_order_not_list_order() -> None:
    example = Example(id="e", input="q", reference_doc_ids=["b"])
    retrieved = [
        RetrievedChunk(chunk_id="1", doc_id="b", rank=2),
        RetrievedChunk(chunk_id="2", doc_id="a", rank=1),
    ]
    assert run_metric(example, Response(retrieved=retrieved))["mrr"].value == 0.5


def test_graded_relevance_takes_precedence() -> None:
    example = Example(id="e", input="q", reference_doc_ids=["a"], reference_relevance={"a": 1, "b": 3})
    scores = run_metric(example, Response(retrieved=chunks("a", "b")), k=[3])
    want = trec_scores([["a", "b"]], [{"a": 1, "b": 3}])[0]
    assert scores["ndcg@3"].value == pytest.approx(want["ndcg@3"]) and scores["ndcg@3"].value < 1
    assert scores["recall@3"].value == 1.0


def test_config_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        RetrievalConfig(type="retrieval", k=[0])
    assert RetrievalConfig(type="retrieval", k=[5, 1, 5]).k == [1, 5]


def trec_at_level(run: list[str], qrel: dict[str, int], level: int) -> dict[str, float]:
    measures = {f"{m}.{','.join(map(str, KS))}" for m in TREC.values()} | {"recip_rank"}
    scored = {d: float(len(run) - j) for j, d in enumerate(run)}
    row = pytrec_eval.RelevanceEvaluator({"q": qrel}, measures, relevance_level=level).evaluate({"q": scored})["q"]
    values = {"mrr": row["recip_rank"]}
    for name, trec in TREC.items():
        values.update({f"{name}@{k}": row[f"{trec}_{k}"] for k in KS})
    return values


@pytest.mark.parametrize("level", [2, 3])
def test_relevance_level_matches_trec_eval_minus_l(level: int) -> None:
    rng = random.Random(level)
    metric = RetrievalMetrics(RetrievalConfig(type="retrieval", k=KS, relevance_level=level))
    checked = 0
    for _ in range(300):
        run, qrel = random_case(rng, graded=True)
        example = Example(id="e", input="q", reference_relevance=qrel)
        scores = {s.name: s for s in metric.score_sync(example, Response(retrieved=chunks(*run)))}
        want = trec_at_level(run, qrel, level)
        for name, score in scores.items():
            if not name.startswith("ndcg@") and not any(g >= level for g in qrel.values()):
                assert score.status == "undefined" and score.reason == f"no documents with relevance grade >= {level}"
                continue
            assert score.status == "ok" and score.value == pytest.approx(want[name], abs=1e-9), name
            checked += 1
    assert checked > 2000


def test_relevance_level_counts_low_grades_as_non_relevant_but_ndcg_keeps_them() -> None:
    example = Example(id="e", input="q", reference_relevance={"a": 1, "b": 2})
    default = run_metric(example, Response(retrieved=chunks("a", "b")), k=[2])
    metric = RetrievalMetrics(RetrievalConfig(type="retrieval", k=[2], relevance_level=2))
    strict = {s.name: s for s in metric.score_sync(example, Response(retrieved=chunks("a", "b")))}
    assert default["mrr"].value == 1.0 and strict["mrr"].value == 0.5
    assert default["precision@2"].value == 1.0 and strict["precision@2"].value == 0.5
    assert strict["ndcg@2"].value == default["ndcg@2"].value
    with pytest.raises(ValueError):
        RetrievalConfig(type="retrieval", relevance_level=0)
