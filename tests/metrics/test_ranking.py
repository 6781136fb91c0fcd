"""Rankings with scores are ordered as trec_eval orders a run: score descending, ties by id descending."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from harness.metrics.retrieval import retrieval_batch, score_names
from harness.ranking import RankingTally, parse_ranking

pytrec_eval = pytest.importorskip("pytrec_eval")

KS = [1, 2, 3, 5, 10]
TREC = {"recall": "recall", "precision": "P", "ndcg": "ndcg_cut", "hit": "success"}


def trec_eval_scores(run: dict[str, float], qrel: dict[str, int]) -> dict[str, float]:
    """trec_eval's own values for one scored run, renamed to ours."""
    measures = {f"{m}.{','.join(map(str, KS))}" for m in TREC.values()} | {"recip_rank"}
    row = pytrec_eval.RelevanceEvaluator({"q": qrel}, measures).evaluate({"q": run})["q"]
    ours = {"mrr": row["recip_rank"]}
    for name, trec in TREC.items():
        ours.update({f"{name}@{k}": row[f"{trec}_{k}"] for k in KS})
    return ours


def ours(entries: list[dict], qrel: dict[str, int]) -> dict[str, float]:
    ids = [e.doc_id for e in parse_ranking(entries).entries]
    batch = retrieval_batch([ids], [qrel], KS)
    return {name: float(batch.values[name][0]) for name in score_names(KS)}


def test_tied_scores_follow_trec_eval_not_list_order() -> None:
    # every score tied: trec_eval ranks by id descending, so d3 is first whatever the list says
    entries = [{"id": "d1", "score": 0.5}, {"id": "d2", "score": 0.5}, {"id": "d3", "score": 0.5}]
    qrel = {"d3": 1}
    ranking = parse_ranking(entries)
    assert [e.doc_id for e in ranking.entries] == ["d3", "d2", "d1"]
    assert ranking.resorted and ranking.contradictions == 0
    got, want = ours(entries, qrel), trec_eval_scores({e["id"]: e["score"] for e in entries}, qrel)
    assert got["mrr"] == want["mrr"] == 1.0
    assert got["ndcg@2"] == pytest.approx(want["ndcg@2"]) == 1.0


def test_list_stored_in_document_order_is_ranked_by_score() -> None:
    # a run file kept sorted by document id, as trec_eval's own test runs are
    scores = {"a": 0.1, "b": 0.9, "c": 0.3, "d": 0.7, "e": 0.2}
    entries = [{"id": d, "score": s} for d, s in sorted(scores.items())]
    qrel = {"d": 1, "e": 1}
    ranking = parse_ranking(entries)
    assert [e.doc_id for e in ranking.entries] == ["b", "d", "c", "e", "a"]
    assert ranking.contradictions == 2  # a (0.1) before b (0.9), c (0.3) before d (0.7)
    got, want = ours(entries, qrel), trec_eval_scores(scores, qrel)
    for name in got:
        assert got[name] == pytest.approx(want[name]), name
    assert got["mrr"] == 0.5


def test_random_scored_runs_match_trec_eval() -> None:
    rng = random.Random(13)
    for _ in range(300):
        pool = [f"d{j:02d}" for j in range(30)]
        docs = rng.sample(pool, rng.randint(1, 20))
        run = {d: float(rng.choice([0.1, 0.2, 0.5, 0.5, 0.9])) for d in docs}  # many ties
        qrel = {d: rng.randint(0, 3) for d in rng.sample(pool, rng.randint(1, 8))}
        if not any(qrel.values()):
            continue
        stored = [{"id": d, "score": s} for d, s in run.items()]
        rng.shuffle(stored)  # the order the list arrives in must not matter
        got, want = ours(stored, qrel), trec_eval_scores(run, qrel)
        np.testing.assert_allclose([got[n] for n in got], [want[n] for n in got], atol=1e-9)


def test_id_lists_keep_their_order_and_duplicates_collapse() -> None:
    ranking = parse_ranking(["b", "a", "b", 7])
    assert [e.doc_id for e in ranking.entries] == ["b", "a", "7"]
    assert (ranking.by_score, ranking.resorted, ranking.duplicates) == (False, False, 1)
    scored = parse_ranking([{"id": "a", "score": 0.2}, {"doc_id": "a", "score": 0.8, "text": "best"}])
    assert [(e.doc_id, e.score, e.text) for e in scored.entries] == [("a", 0.8, "best")]
    assert scored.record() == {"order": "score", "resorted": True, "contradictions": 1, "duplicates": 1}
    assert parse_ranking(None).entries == []


def test_contexts_follow_their_document_through_the_re_sort() -> None:
    ranking = parse_ranking([{"id": "a", "score": 0.1}, {"id": "b", "score": 0.9}], ["text of a", "text of b"])
    assert [(c.doc_id, c.text, c.rank) for c in ranking.chunks()] == [("b", "text of b", 1), ("a", "text of a", 2)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a,b", "must be a list, got str"),
        ([{"id": "a", "score": 1}, {"id": "b"}], "entry 1 has no score while others do"),
        ([{"score": 1}], "entry 0 has no 'id' or 'doc_id'"),
        ([{"id": "a", "score": "high"}], "entry 0 ('a') has score 'high'; expected a finite number"),
        ([{"id": "a", "score": float("nan")}], "expected a finite number"),
        ([{"id": "a", "score": True}], "expected a finite number"),
        ([["a"]], "entry 0 is ['a']"),
        ([""], "entry 0 is ''"),
    ],
)
def test_bad_rankings_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_ranking(value)


def test_tally_warns_with_counts() -> None:
    tally = RankingTally(where="systems.x")
    for value in (
        [{"id": "a", "score": 0.1}, {"id": "b", "score": 0.9}, {"id": "c", "score": 0.95}],
        [{"id": "a", "score": 0.5}, {"id": "b", "score": 0.5}],  # ties re-sorted: no contradiction
        ["a", "a", "b", "b"],
    ):
        tally.add(parse_ranking(value))
    warnings = tally.warnings()
    assert warnings == [
        (
            "systems.x: 1 of 3 rankings list documents in an order their scores contradict (2 adjacent pair(s) "
            "with a higher score listed later); ranked by score, as trec_eval does"
        ),
        "systems.x: 1 of 3 rankings list a document more than once (2 repeat(s)); each document counted once, at its best rank",
    ]
    assert (tally.resorted, RankingTally(where="y").warnings()) == (2, [])
