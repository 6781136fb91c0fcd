"""Calibration of `harness gate`: false alarms with no true difference, detection of a planted drop.

Simulates pairs of runs on n examples through the real gate code (harness.compare.gate.evaluate)
for a binary metric (per-example difficulty shared by both runs, so pairs are correlated as in a
real re-run) and a continuous one (a 0-1 judge-style score with per-example quality plus noise).

    python benchmarks/bench_gate_calibration.py [--trials 1000] [--sizes 25,50,100,200]

Printed per metric, rule and n: the false-alarm rate under no true difference (must be <= alpha;
the permutation test is exact, so estimates scatter around at most alpha by Monte Carlo error)
and the detection rate for the planted regression; +- is one Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harness.suite.gate import GateConfig
from harness.compare.gate import evaluate
from harness.compare.synthetic import score_set

BINARY_DROP = 0.10  # accuracy 0.70 -> 0.60
CONTINUOUS_DROP = 0.05  # mean score 0.71 -> 0.66, per-example noise sd 0.10
FAMILY = 5  # metrics watched at once in the family-wise check

RULES = {
    "significant drop (max_drop 0)": {"rules": [{"metric": "*", "max_drop": 0.0}]},
    "max_drop 0.05 + significance": {"rules": [{"metric": "*", "max_drop": 0.05}]},
    "naive: max_drop 0.02, no significance": {
        "require_significance": False,
        "rules": [{"metric": "*", "max_drop": 0.02}],
    },
}


def draw(kind: str, n: int, effect: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(base, new) scores for n examples; `effect` is the true drop of the mean."""
    if kind == "binary":
        difficulty = rng.beta(2.8, 1.2, size=n)  # mean 0.70
        base = (rng.random(n) < difficulty).astype(float)
        new = (rng.random(n) < np.clip(difficulty - effect, 0, 1)).astype(float)
        return base, new
    quality = rng.beta(5, 2, size=n)
    base = np.clip(quality + rng.normal(0, 0.1, n), 0, 1)
    new = np.clip(quality - effect + rng.normal(0, 0.1, n), 0, 1)
    return base, new


def gate_fails(config: GateConfig, kind: str, n: int, effect: float, metrics: int, rng: np.random.Generator, seed: int) -> bool:
    ids = [f"e{i}" for i in range(n)]
    base_values, new_values = {}, {}
    for m in range(metrics):
        base, new = draw(kind, n, effect if m == 0 else 0.0, rng)
        base_values[f"m{m}"] = dict(zip(ids, base))
        new_values[f"m{m}"] = dict(zip(ids, new))
    result = evaluate(config, score_set({"s": base_values}), score_set({"s": new_values}, run_id="new"), seed=seed)
    return bool(result.failures)


def rate(hits: int, trials: int) -> str:
    p = hits / trials
    return f"{p:6.3f} ± {np.sqrt(max(p * (1 - p), 1e-12) / trials):.3f}"


def _above(hits: int, trials: int, alpha: float) -> str:
    """A flag when the rate is above alpha by more than Monte Carlo noise (2 standard errors)."""
    return "  <-- above alpha" if hits / trials > alpha + 2 * np.sqrt(alpha * (1 - alpha) / trials) else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"alpha = {args.alpha}, {args.trials} simulated comparisons per cell; one-sided paired sign-flip test + Holm")
    print(f"planted regression: binary -{BINARY_DROP:.2f} accuracy, continuous -{CONTINUOUS_DROP:.2f} mean score\n")
    header = f"{'metric':<11}{'rule':<40}{'n':>5}   {'false alarm':>14}   {'detection':>14}"
    print(header)
    print("-" * len(header))
    above = []
    for kind, effect in (("binary", BINARY_DROP), ("continuous", CONTINUOUS_DROP)):
        for label, raw in RULES.items():
            config = GateConfig.model_validate({"alpha": args.alpha, **raw})
            pooled = 0
            for n in sizes:
                null = sum(gate_fails(config, kind, n, 0.0, 1, rng, t) for t in range(args.trials))
                planted = sum(gate_fails(config, kind, n, effect, 1, rng, t) for t in range(args.trials))
                pooled += null
                print(f"{kind:<11}{label:<40}{n:>5}   {rate(null, args.trials)}   {rate(planted, args.trials)}")
            if config.require_significance:
                total = args.trials * len(sizes)
                flag = _above(pooled, total, args.alpha)
                if flag:
                    above.append((kind, label))
                print(f"{'':<11}{'  pooled over n':<40}{'all':>5}   {rate(pooled, total)}{flag}")
        print()
    config = GateConfig.model_validate({"alpha": args.alpha, **RULES["significant drop (max_drop 0)"]})
    print(f"family-wise false alarm, {FAMILY} metrics gated at once, no true difference (Holm across them):")
    for kind in ("binary", "continuous"):
        for n in sizes:
            hits = sum(gate_fails(config, kind, n, 0.0, FAMILY, rng, t) for t in range(args.trials))
            flag = _above(hits, args.trials, args.alpha)
            if flag:
                above.append((kind, f"family n={n}"))
            print(f"  {kind:<11} n={n:<4} {rate(hits, args.trials)}{flag}")
    verdict = "no significance-gated false-alarm rate is above alpha" if not above else f"ABOVE ALPHA: {above}"
    print(f"\n{verdict} (flagged only when more than 2 Monte Carlo standard errors above it)")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
