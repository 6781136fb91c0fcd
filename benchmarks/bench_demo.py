"""The demo suite end to end, as a new user meets it: a cold run (empty cache: model file
assembled, indexes built, both LoRA adapters trained, every system evaluated), then the warm
re-run served from the caches.

Prints wall time and the peak memory of the whole process tree (the run and its training
child processes, sampled every 0.2 s), and the summary table of the cold run.

    python benchmarks/bench_demo.py [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def run_and_measure(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (GiB) of the process tree, and the run directory."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"harness run exited {process.returncode}")
    return time.perf_counter() - started, peak / 2**30, out.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, help="evaluate only the first N test questions")
    parser.add_argument("--keep", metavar="DIR", help="keep the cache and both run directories in DIR")
    args = parser.parse_args()
    harness = [sys.executable, "-m", "harness.cli", "run", "suites/demo/suite.yaml", "--no-progress"]
    if args.limit:
        harness += ["--limit", str(args.limit)]
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        env = {**os.environ, "HARNESS_CACHE_DIR": str(Path(tmp) / "cache")}
        env.pop("HARNESS_MODELS_DIR", None)
        cold, cold_peak, cold_dir = run_and_measure([*harness, "--out", str(Path(tmp) / "cold")], env)
        warm, warm_peak, _ = run_and_measure([*harness, "--out", str(Path(tmp) / "warm")], env)
        with open(Path(cold_dir) / "summary.csv") as handle:
            rows = list(csv.DictReader(handle))
    print(f"cpu cores: {os.cpu_count()}")
    print(f"cold run (model file, indexes, two LoRA trainings, every system): {cold / 60:.1f} min, peak RSS {cold_peak:.2f} GiB")
    print(f"warm re-run (response, index and adapter caches): {warm:.1f} s, peak RSS {warm_peak:.2f} GiB")
    metrics = ["contains_answer", "token_f1", "json_schema", "recall@3", "faithfulness", "latency_s"]
    table = {(r["system"], r["metric"]): r["mean"] for r in rows}
    systems = list(dict.fromkeys(r["system"] for r in rows))
    print(f"{'system':<20}" + "".join(f"{m:>17}" for m in metrics))
    for system in systems:
        cells = [table.get((system, m)) or "n/a" for m in metrics]
        print(f"{system:<20}" + "".join(f"{(f'{float(c):.3f}' if c != 'n/a' else c):>17}" for c in cells))


if __name__ == "__main__":
    main()
