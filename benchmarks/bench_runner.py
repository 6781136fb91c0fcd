"""The whole `harness run` command on the scripted model, against the ideal and issue 16's goals.

Every figure is min / median / max over `--repeat` runs, each a fresh `python -m harness.cli run`
child process (its own response cache unless said otherwise), with the 1-minute load average
printed beside it: on a shared machine the load explains most of the spread.

- whole command: 1,000 calls (200 examples x 5 systems) and 5,000 (1,000 x 5) at concurrency 50,
  20,000 (4,000 x 5) at concurrency 200; 100 ms per call, so the ideal is
  calls x 0.1 s / concurrency. Goals: 1,000 <= 3 s; 5,000 <= 1.1x; 20,000 at c200 <= 1.2x.
- fixed cost: the 5,000-call run again with its cache filled (no call is made). Goal < 1.5 s.
- per-call CPU: CPU of a 5,000-call run minus a 1,000-call run, divided by the 4,000 calls
  between them (0 ms latency, reports off: runner, gateway, cache, scoring, writing), for the
  run's own process (measured in this process) and for all the command's processes (the
  follower adds each sample to the run store). Goal <= 0.2 ms.
- CPU figures are user + system seconds of every process of the command: on a loaded machine
  they say more than wall times. Comparing against another tree: run this file with that
  tree first on PYTHONPATH.
- peak RSS: 1,000 calls and `--memory-calls` calls (default 100,000) at concurrency 500 with
  reports, for the run's own process and for its helper processes. Goal: the large run within
  1.3x of the small one.
- `harness --help`. Goal < 0.2 s.

    python benchmarks/bench_runner.py [--repeat 3] [--parts whole,cached,cpu,memory,help]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SYSTEMS = 5
LATENCY_MS = 100.0


def write_suite(folder: Path, examples: int, latency_ms: float, concurrency: int) -> Path:
    """A suite of `examples` x 5 scripted systems; the dataset is a JSONL file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "data.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(examples):
            handle.write(json.dumps({"id": f"q{i}", "input": f"question {i}", "reference": f"question {i}"}) + "\n")
    suite = {
        "name": "bench",
        "dataset": {"path": "data.jsonl"},
        "scripted_models": {f"m{j}": {"latency_ms": latency_ms} for j in range(SYSTEMS)},
        "systems": {f"s{j}": {"kind": "prompt", "model": f"scripted/m{j}"} for j in range(SYSTEMS)},
        "metrics": ["exact_match", "latency", "usage"],
        "settings": {"concurrency": concurrency},
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def measure(args: list[str], cwd: Path, cache: Path) -> dict[str, float]:
    """Run the command in a child that reports its own rusage (exact per child, RSS included)."""
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from their .pyc
    probe = (
        "import os, resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run([sys.executable, '-m', 'harness.cli', *sys.argv[1:]], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'err': p.stderr[-3000:], 'wall': wall,"
        " 'cpu': u.ru_utime + u.ru_stime, 'rss': u.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"probe failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"`harness {' '.join(args)}` exited {result['rc']}:\n{result['err']}")
    return result


def spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f} {unit}"


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def whole_command(tmp: Path, repeat: int) -> None:
    print("== whole command, cold (min / median / max)")
    sizes = [(200, 50, "<= 3 s"), (1000, 50, "<= 1.1x"), (4000, 200, "<= 1.2x")]
    walls: dict[int, list[float]] = {n: [] for n, _, _ in sizes}
    loads: dict[int, list[float]] = {n: [] for n, _, _ in sizes}
    rss: dict[int, list[float]] = {n: [] for n, _, _ in sizes}
    cpu: dict[int, list[float]] = {n: [] for n, _, _ in sizes}
    for rep in range(repeat):  # interleaved, so a load spike hits every size alike
        for examples, concurrency, _ in sizes:
            folder = tmp / f"whole-{examples}-{rep}"
            suite = write_suite(folder, examples, LATENCY_MS, concurrency)
            got = measure(["run", str(suite), "--out", "run", "--no-progress"], folder, folder / "cache")
            walls[examples].append(got["wall"])
            rss[examples].append(got["rss"])
            cpu[examples].append(got["cpu"])
            loads[examples].append(os.getloadavg()[0])
    for examples, concurrency, goal in sizes:
        calls = examples * SYSTEMS
        ideal = calls * LATENCY_MS / 1000 / concurrency
        ratio = statistics.median(walls[examples]) / ideal
        print(f"{calls:>6} calls, c{concurrency:<3} ideal {ideal:5.1f} s: {spread(walls[examples])}  "
              f"median {ratio:.2f}x ideal (goal {goal}); CPU {spread(cpu[examples])}; "
              f"peak RSS {spread(rss[examples], 'MiB', 0)}; load1 after {spread(loads[examples], '', 1)}")


def cached_rerun(tmp: Path, repeat: int) -> None:
    folder = tmp / "cached"
    suite = write_suite(folder, 1000, LATENCY_MS, 50)
    measure(["run", str(suite), "--out", "cold", "--no-progress"], folder, folder / "cache")
    walls, cpus = [], []
    for rep in range(repeat):
        got = measure(["run", str(suite), "--out", f"warm{rep}", "--no-progress"], folder, folder / "cache")
        walls.append(got["wall"])
        cpus.append(got["cpu"])
    print(f"== fixed cost: 5,000-call run fully cached: {spread(walls)} (goal < 1.5 s); CPU {spread(cpus)}; {load()}")


def per_call_cpu(tmp: Path, repeat: int) -> None:
    """Two figures: the run's own process (measured here, in process: the follower that adds the
    run to the run store is another process), and everything the command's processes used."""
    own, whole = [], []
    for rep in range(repeat):
        cpu, total = {}, {}
        for examples in (200, 1000):
            folder = tmp / f"cpu-{examples}-{rep}"
            suite = write_suite(folder, examples, 0.0, 50)
            total[examples] = measure(["run", str(suite), "--out", "run", "--no-progress", "--no-report"],
                                      folder, folder / "cache")["cpu"]
            cpu[examples] = in_process_cpu(suite, folder / "inside", folder / "cache-inside")
        own.append((cpu[1000] - cpu[200]) / (800 * SYSTEMS) * 1000)
        whole.append((total[1000] - total[200]) / (800 * SYSTEMS) * 1000)
    print(f"== per-call CPU, runner + gateway + cache + scoring + writing (the run's process): "
          f"{spread(own, 'ms', 3)} (goal <= 0.2 ms); {load()}")
    print(f"   the same with the follower adding each sample to the run store (all processes): {spread(whole, 'ms', 3)}")


def in_process_cpu(suite: Path, out: Path, cache: Path) -> float:
    """CPU seconds of this process for one run without reports (imports already done)."""
    from harness.engine.launch import start_run
    from harness.engine.plan import RunOptions

    os.environ["HARNESS_CACHE_DIR"] = str(cache)
    started = time.process_time()
    start_run(suite, RunOptions(out=out, progress=False, use_cache=True, reports=False))
    return time.process_time() - started


def peak_memory(tmp: Path, repeat: int, calls: int) -> None:
    """Peak RSS of the run's own process and of its helper processes (the follower writing the
    reports and the run store's rows), each: the run goes through `harness.cli.main` in a probe
    process, so its own peak is the probe's (the command's gc.freeze and quick exit are not used)."""
    sizes = [(200, "1,000"), (calls // SYSTEMS, f"{calls:,}")]
    own: dict[int, list[float]] = {n: [] for n, _ in sizes}
    helpers: dict[int, list[float]] = {n: [] for n, _ in sizes}
    for rep in range(repeat):
        for examples, _ in sizes:
            folder = tmp / f"mem-{examples}-{rep}"
            suite = write_suite(folder, examples, LATENCY_MS, 500)
            got = in_probe(["run", str(suite), "--out", "run", "--no-progress"], folder, folder / "cache")
            own[examples].append(got["own_rss"])
            helpers[examples].append(got["helpers_rss"])
            if examples != 200:
                print(f"   {calls:,} calls at c500: wall {got['wall']:.1f} s (ideal {calls * LATENCY_MS / 1000 / 500:.0f} s); {load()}")
    (small, _), (large, label) = sizes
    for title, table in (("the run's process", own), ("its helper processes (largest)", helpers)):
        ratio = statistics.median(table[large]) / statistics.median(table[small])
        print(f"== peak RSS of {title}: 1,000 calls {spread(table[small], 'MiB', 0)}; {label} calls at c500 "
              f"{spread(table[large], 'MiB', 0)}; median ratio {ratio:.2f}x (goal <= 1.3x)")


def in_probe(args: list[str], cwd: Path, cache: Path) -> dict[str, float]:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    probe = (
        "import json, resource, sys, time\n"
        "from harness.cli import main\n"
        "t = time.perf_counter()\n"
        "code = main(sys.argv[1:])\n"
        "wall = time.perf_counter() - t\n"
        "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "helpers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'rc': code, 'wall': wall, 'own_rss': own, 'helpers_rss': helpers}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"probe failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"`harness {' '.join(args)}` exited {result['rc']}:\n{done.stderr[-3000:]}")
    return result


def help_time(repeat: int) -> None:
    times = []
    for _ in range(max(5, repeat)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    print(f"== `harness --help`: {spread(times)} (goal < 0.2 s); {load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", default="whole,cached,cpu,memory,help")
    parser.add_argument("--memory-calls", type=int, default=100_000)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load()} at start, {args.repeat} repetitions")
    with tempfile.TemporaryDirectory() as tmp:
        if "whole" in parts:
            whole_command(Path(tmp), args.repeat)
        if "cached" in parts:
            cached_rerun(Path(tmp), args.repeat)
        if "cpu" in parts:
            per_call_cpu(Path(tmp), args.repeat)
        if "memory" in parts:
            peak_memory(Path(tmp), args.repeat, args.memory_calls)
        if "help" in parts:
            help_time(args.repeat)


if __name__ == "__main__":
    main()
