"""Time the vectorised retrieval metrics against pytrec_eval on the same input.

    python benchmarks/bench_retrieval_metrics.py [--queries 100000] [--depth 100]

Input: Q queries, each with `depth` retrieved doc ids in rank order and 1-10 graded relevant
documents. Measures: recall, precision, ndcg, hit @ {1,3,5,10} and MRR (17 values per query).
Ours is timed end to end (ids -> gain matrix -> metrics) and for the numpy core alone;
pytrec_eval is timed for building its evaluator plus evaluating (its input dicts are built
outside the timing, as ours are). Values are checked to agree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.metrics.retrieval import gains_matrix, metrics_from_gains, retrieval_batch, score_names  # noqa: E402

KS = [1, 3, 5, 10]
TREC = {"recall": "recall", "precision": "P", "ndcg": "ndcg_cut", "hit": "success"}


def make_input(n: int, depth: int, pool: int, seed: int) -> tuple[list[list[str]], list[dict[str, int]]]:
    rng = np.random.default_rng(seed)
    names = np.array([f"doc{i}" for i in range(pool)], dtype=object)
    runs = [list(names[rng.choice(pool, depth, replace=False)]) for _ in range(n)]
    qrels = []
    for run in runs:
        k = int(rng.integers(1, 11))
        # about half the relevant documents are among the retrieved ones
        inside = rng.choice(depth, size=k // 2, replace=False)
        chosen = {run[i] for i in inside} | set(names[rng.choice(pool, k - k // 2, replace=False)])
        qrels.append({d: int(rng.integers(1, 4)) for d in chosen})
    return runs, qrels


def best_of(repeats: int, fn):
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--pool", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import pytrec_eval

    runs, qrels = make_input(args.queries, args.depth, args.pool, seed=0)
    print(f"{args.queries:,} queries x {args.depth} retrieved ids; measures: {', '.join(score_names(KS))}")

    ours_s, batch = best_of(args.repeats, lambda: retrieval_batch(runs, qrels, KS))
    unique_s, _ = best_of(args.repeats, lambda: retrieval_batch(runs, qrels, KS, assume_unique=True))
    gains, ideal = gains_matrix(runs, qrels)
    core_s, _ = best_of(args.repeats, lambda: metrics_from_gains(gains, ideal, KS))

    qrel = {f"q{i}": rel for i, rel in enumerate(qrels)}
    run = {f"q{i}": {d: float(args.depth - j) for j, d in enumerate(r)} for i, r in enumerate(runs)}
    measures = {f"{m}.{','.join(map(str, KS))}" for m in TREC.values()} | {"recip_rank"}

    def trec():
        return pytrec_eval.RelevanceEvaluator(qrel, measures).evaluate(run)

    trec_s, trec_out = best_of(args.repeats, trec)

    worst = 0.0
    for name in score_names(KS):
        m, _, k = name.partition("@")
        key = "recip_rank" if name == "mrr" else f"{TREC[m]}_{k}"
        want = np.fromiter((trec_out[f"q{i}"][key] for i in range(len(runs))), float, len(runs))
        worst = max(worst, float(np.abs(batch.values[name] - want).max()))

    print(f"ours, ids -> metrics:       {ours_s:7.3f} s  ({ours_s / args.queries * 1e6:6.2f} us/query)")
    print(f"ours, ids already unique:   {unique_s:7.3f} s  ({unique_s / args.queries * 1e6:6.2f} us/query)")
    print(f"ours, numpy core only:      {core_s:7.3f} s  ({core_s / args.queries * 1e6:6.2f} us/query)")
    print(f"pytrec_eval (build+eval):   {trec_s:7.3f} s  ({trec_s / args.queries * 1e6:6.2f} us/query)")
    print(
        f"speed-up vs pytrec_eval:    {trec_s / ours_s:5.2f}x end to end (dedup), "
        f"{trec_s / unique_s:5.2f}x with unique ids, {trec_s / core_s:5.2f}x numpy core"
    )
    print(f"max |ours - trec_eval| over all values: {worst:.2e}")


if __name__ == "__main__":
    main()
