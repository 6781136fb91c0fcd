"""Runner throughput on the scripted model: 1,000 examples x 5 systems at 100 ms per call.

Prints the cold wall time against the ideal (calls x latency / concurrency), the cached re-run,
peak memory, and `harness --help` start-up time.

    python benchmarks/bench_runner.py [--examples 1000] [--latency-ms 100] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def write_suite(folder: Path, examples: int, latency_ms: float, concurrency: int) -> Path:
    suite = {
        "name": "bench",
        "dataset": {"inline": [{"id": f"q{i}", "input": f"question {i}", "reference": f"question {i}"} for i in range(examples)]},
        "scripted_models": {f"m{j}": {"latency_ms": latency_ms} for j in range(5)},
        "systems": {f"s{j}": {"kind": "prompt", "model": f"scripted/m{j}"} for j in range(5)},
        "metrics": ["exact_match", "latency", "usage"],
        "settings": {"concurrency": concurrency},
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def timed_run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one `harness run` in a child process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"harness run failed:\n{done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return elapsed, peak


def in_process_run(suite: Path, out: Path, *, reports: bool = True) -> float:
    """The run itself (plan, calls, scoring, summary, reports) with litellm already imported:
    what a long-lived process such as a notebook pays per run."""
    from harness.launch import start_run
    from harness.gateway.providers import load_litellm
    from harness.plan import RunOptions

    load_litellm()
    started = time.perf_counter()
    start_run(suite, RunOptions(out=out, progress=False, use_cache=False, reports=reports))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    calls = args.examples * 5
    ideal = calls * args.latency_ms / 1000 / args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suite = write_suite(folder, args.examples, args.latency_ms, args.concurrency)
        env = {**os.environ, "HARNESS_CACHE_DIR": str(folder / "cache")}
        cold, peak = timed_run(["run", str(suite), "--out", "cold", "--no-progress"], folder, env)
        warm, peak_warm = timed_run(["run", str(suite), "--out", "warm", "--no-progress"], folder, env)
        inside = in_process_run(suite, folder / "inside")
        calls_only = in_process_run(suite, folder / "no-report", reports=False)
    helps = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, check=True)
        helps.append(time.perf_counter() - started)
    print(f"calls: {calls} ({args.examples} examples x 5 systems), {args.latency_ms:g} ms each, concurrency {args.concurrency}")
    print(f"cold run, whole command: {cold:.2f} s  (ideal {ideal:.2f} s, ratio {cold / ideal:.2f}x, target <= 1.2x)")
    print(f"cold run in a warm process (litellm imported): {inside:.2f} s  (ratio {inside / ideal:.2f}x)")
    print(f"  the same without reports (--no-report): {calls_only:.2f} s  (ratio {calls_only / ideal:.2f}x)")
    print(f"cached re-run wall: {warm:.2f} s  (target < 5 s)")
    print(f"peak RSS of a run: {max(peak, peak_warm)} MiB")
    print(f"`harness --help` start-up: median {sorted(helps)[2] * 1000:.0f} ms over 5 (target < 300 ms)")


if __name__ == "__main__":
    main()
