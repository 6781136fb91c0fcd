"""Chaos: a misbehaving OpenAI-compatible server, a run killed over and over, and what survives.

A fake server on 127.0.0.1 answers 1,000 examples x 2 systems (a `prompt` system through the
gateway and litellm, a `custom` HTTP endpoint through the same retry loop). Per request it sends
about 20% 429/5xx, 5% hangs past the call timeout and, for 5% of the prompts, a garbage body;
half of the error bodies and every garbage body echo the caller's credentials (the canaries).
The run is SIGKILLed at `--kills` random moments, with `harness run --resume` after each. An
uninterrupted run against a fresh server with the same replies is the reference.

Each prompt's fate is fixed by a hash of the prompt: how many transient failures it gets before
its final answer (at most 2, fewer than `max_attempts`), whether that answer is garbage, and the
answer itself. A kill that loses a request's reply cannot change what the prompt finally gets,
so both runs must end with the same samples.

Prints: samples lost, samples duplicated, whether summary.csv equals the reference's, error
samples by reason, canary hits on disk (run directories, caches, the processes' output).
Targets: 0, 0, equal, 0. Bounded: loopback only, a request budget and a wall-clock deadline.

    python benchmarks/bench_chaos.py [--examples 1000] [--kills 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.testing.fake_openai import FakeOpenAI, Reply, Request, chat_completion

CANARIES = {"OPENAI_API_KEY": "sk-chaos-canary-5e1d7a93c2", "CHAOS_HEADER_KEY": "chaos-header-canary-b84f02e6d1"}


class ChaosServer:
    """The behaviour behind FakeOpenAI: each prompt's fate from a hash, its nth request from a counter."""

    def __init__(self, seed: int, latency_s: float, hang_s: float, max_requests: int):
        self.seed, self.latency_s, self.hang_s, self.max_requests = seed, latency_s, hang_s, max_requests
        self.seen: dict[str, int] = {}
        self.fates: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.total = 0

    def __call__(self, request: Request, n: int) -> Reply:
        body = request.body or {}
        chat = "messages" in body
        text = request.prompt if chat else str(body.get("input", ""))
        key = ("chat:" if chat else "endpoint:") + text
        with self.lock:
            self.total += 1
            nth = self.seen[key] = self.seen.get(key, -1) + 1
            over = self.total > self.max_requests
        if over:
            return self._count("over budget", Reply(status=400, body={"error": {"message": "request budget spent"}}))
        fate = random.Random(f"{self.seed}:{key}")
        failures = fate.choices([0, 1, 2], weights=[0.72, 0.20, 0.08])[0]
        garbage = fate.random() < 0.05
        right = fate.random() < 0.7
        seen = request.headers.get("authorization", "")
        if nth < failures:
            roll = random.Random(f"{self.seed}:{key}:{nth}")
            if roll.random() < 0.2:
                return self._count("hang", Reply(body=chat_completion("too late"), delay_s=self.hang_s))
            status = roll.choice([429, 500, 502, 503])
            message = "overloaded, try again" + (f" (you sent {seen})" if roll.random() < 0.5 else "")
            return self._count(f"http {status}", Reply(status=status, body={"error": {"message": message}}, delay_s=self.latency_s))
        if garbage:
            return self._count("garbage", Reply(raw=f"<html>upstream sent junk; {seen}</html>".encode(), delay_s=self.latency_s))
        answer = text.split()[-1] if right else "no idea"
        return self._count("answer", Reply(body=chat_completion(answer), delay_s=self.latency_s))

    def _count(self, fate: str, reply: Reply) -> Reply:
        with self.lock:
            self.fates[fate] += 1
        return reply


def write_suite(folder: Path, url: str, examples: int, timeout_s: float) -> Path:
    rows = [{"id": f"q{i:04d}", "input": f"repeat the number {i}", "reference": str(i)} for i in range(examples)]
    suite = {
        "name": "chaos",
        "dataset": {"inline": rows},
        "systems": {
            "chat": {"kind": "prompt", "model": "openai/chaos-model", "params": {"seed": 0}},
            "endpoint": {"kind": "custom", "endpoint": {
                "url": url + "/chat/completions", "headers": {"Authorization": "Bearer ${CHAOS_HEADER_KEY}"},
                "body": {"id": "id", "input": "input"}, "answer_field": "choices.0.message.content"}},
        },
        # latency is left out on purpose: the summary of two runs can only be equal on what the replies fix
        "metrics": ["exact_match", "usage"],
        "settings": {"timeout_s": timeout_s, "concurrency": 16,
                     "retry": {"max_attempts": 4, "initial_delay_s": 0.05, "max_delay_s": 0.2}},
    }  # fmt: skip
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


class Harness:
    """`harness run` child processes, each one's output kept in a log file (it is grepped too)."""

    def __init__(self, work: Path, url: str, cache: Path):
        self.work, self.logs = work, work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.env = {**os.environ, **CANARIES, "OPENAI_BASE_URL": url, "HARNESS_CACHE_DIR": str(cache),
                    "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        self.started = 0

    def start(self, *args: str) -> subprocess.Popen:
        self.started += 1
        log = (self.logs / f"{self.started:02d}.log").open("wb")
        return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=self.work, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, *args: str, timeout: float) -> int:
        process = self.start(*args)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise SystemExit(f"harness {' '.join(args)} did not finish within {timeout:.0f} s; see {self.logs}")


def line_count(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        return 0


def chaos_run(harness: Harness, suite: Path, run: Path, kills: int, planned: int, rng: random.Random,
              deadline: float) -> tuple[list[dict[str, Any]], int]:
    """Start, kill at random moments, resume; then resume to the end. Returns the kills and the last exit code."""
    done: list[dict[str, Any]] = []
    stride = max(2, planned // max(1, kills))
    while len(done) < kills and time.monotonic() < deadline:
        resume = (run / "run.json").is_file()
        process = harness.start(*(["run", "--resume", str(run)] if resume else ["run", str(suite), "--out", str(run)]), "--no-report", "--no-progress")
        before = line_count(run / "samples.jsonl")
        if rng.random() < 0.2:  # some kills land in start-up: imports, pre-flight, taking the lock
            moment, wait_for = "start-up", rng.uniform(0.1, 4.0)
            finished = _wait(process, lambda: False, wait_for, deadline)
        else:
            target = before + rng.randint(1, stride)
            moment = f"after {target - before} new samples"
            finished = _wait(process, lambda target=target: line_count(run / "samples.jsonl") >= target, 300.0, deadline)
            time.sleep(rng.uniform(0.0, 0.15))  # and a little later: mid-call, mid-write, mid-retry
        if finished or process.poll() is not None:
            break  # it ran to the end before its kill
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        done.append({"moment": moment, "lines_before": before, "lines_after": line_count(run / "samples.jsonl")})
    args = ["run", "--resume", str(run)] if (run / "run.json").is_file() else ["run", str(suite), "--out", str(run)]
    code = harness.run(*args, "--no-report", "--no-progress", timeout=max(60.0, deadline - time.monotonic()))
    return done, code


def _wait(process: subprocess.Popen, condition: Any, limit: float, deadline: float) -> bool:
    """Wait until `condition()` (False) or the process ends (True), within `limit` s."""
    end = min(time.monotonic() + limit, deadline)
    while time.monotonic() < end:
        if process.poll() is not None:
            return True
        if condition():
            return False
        time.sleep(0.02)
    return False


def samples(run: Path) -> list[dict[str, Any]]:
    rows = []
    for line in (run / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def reason(error: str) -> str:
    """An error message with its varying parts (addresses, numbers) folded, to count by kind."""
    text = re.sub(r"https?://127\.0\.0\.1:\d+\S*", "<server>", error)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return text[:140]


def canary_hits(folders: list[Path]) -> dict[str, int]:
    hits: collections.Counter[str] = collections.Counter()
    values = {name: value.encode() for name, value in CANARIES.items()}
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for name, value in values.items():
                if value in data:
                    hits[f"{name} in {path.relative_to(folder.parent)}"] += data.count(value)
    return dict(hits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--timeout-s", type=float, default=1.0, help="settings.timeout_s (per attempt)")
    parser.add_argument("--hang-s", type=float, default=2.0, help="how long a hanging reply takes (past the timeout)")
    parser.add_argument("--deadline-s", type=float, default=900.0, help="wall-clock bound of the whole benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the run directories and logs (path printed)")
    args = parser.parse_args()
    planned = 2 * args.examples
    max_requests = 4 * 2 * planned  # every sample's worst case, twice over (both runs): anything more is a bug
    deadline = time.monotonic() + args.deadline_s
    rng = random.Random(args.seed)
    started = time.perf_counter()

    holder = tempfile.TemporaryDirectory(prefix="bench-chaos-")
    if args.keep:
        holder = contextlib.nullcontext(tempfile.mkdtemp(prefix="bench-chaos-"))  # type: ignore[assignment]
    with holder as tmp:
        work = Path(tmp)
        servers = {name: ChaosServer(args.seed, args.latency_ms / 1000, args.hang_s, max_requests) for name in ("reference", "chaos")}
        results: dict[str, Any] = {}
        for name, behaviour in servers.items():
            folder = work / name
            folder.mkdir()
            with FakeOpenAI(behaviour) as server:
                suite = write_suite(folder, server.url, args.examples, args.timeout_s)
                harness = Harness(folder, server.url, folder / "cache")
                run = folder / "run"
                t0 = time.perf_counter()
                if name == "reference":
                    kills, code = [], harness.run("run", str(suite), "--out", str(run), "--no-report", "--no-progress",
                                                  timeout=max(60.0, deadline - time.monotonic()))
                else:
                    kills, code = chaos_run(harness, suite, run, args.kills, planned, rng, deadline)
                report_code = harness.run("report", str(run), "--no-charts", timeout=300)
                results[name] = {"code": code, "report_code": report_code, "kills": kills, "seconds": time.perf_counter() - t0,
                                 "processes": harness.started, "folder": folder}

        ref, chaos = results["reference"], results["chaos"]
        ref_rows, chaos_rows = samples(ref["folder"] / "run"), samples(chaos["folder"] / "run")
        pairs = collections.Counter((r["system"], r["example"]["id"]) for r in chaos_rows)
        wanted = {(s, f"q{i:04d}") for s in ("chat", "endpoint") for i in range(args.examples)}
        lost = len(wanted - set(pairs))
        duplicated = sum(c - 1 for c in pairs.values() if c > 1)
        summary_equal = (ref["folder"] / "run" / "summary.csv").read_bytes() == (chaos["folder"] / "run" / "summary.csv").read_bytes()
        same_answers = {(r["system"], r["example"]["id"]): r["response"]["text"] for r in ref_rows} == \
                       {(r["system"], r["example"]["id"]): r["response"]["text"] for r in chaos_rows}
        header = json.loads((chaos["folder"] / "run" / "run.json").read_text())

        print(f"chaos benchmark: {args.examples} examples x 2 systems = {planned} samples, seed {args.seed}, "
              f"timeout {args.timeout_s:g} s, hangs {args.hang_s:g} s, replies {args.latency_ms:g} ms")
        for name in ("reference", "chaos"):
            r, server = results[name], servers[name]
            fates = ", ".join(f"{k} {v}" for k, v in sorted(server.fates.items()))
            print(f"  {name:9s}: {r['seconds']:6.1f} s, {r['processes']} harness processes, exit {r['code']} "
                  f"(report {r['report_code']}); {server.total} requests: {fates}")
        moments = collections.Counter(k["moment"].split(" ")[0] for k in chaos["kills"])
        print(f"  kills    : {len(chaos['kills'])} SIGKILLs ({moments.get('start-up', 0)} in start-up, "
              f"{moments.get('after', 0)} while answering); status {header['status']}, counts {header['counts']}")
        print()
        print(f"samples lost        : {lost}")
        print(f"samples duplicated  : {duplicated}")
        print(f"summary.csv         : {'equal' if summary_equal else 'DIFFERENT'} to the uninterrupted run's"
              f" (answers {'identical' if same_answers else 'DIFFER'})")
        for name, rows in (("chaos", chaos_rows), ("reference", ref_rows)):
            errors = collections.Counter((r["system"], reason(r["response"]["error"])) for r in rows if r["response"]["error"])
            print(f"error samples ({name}): {sum(errors.values())}")
            for (system, why), count in errors.most_common():
                print(f"  {count:5d}  {system}: {why}")
        hits = canary_hits([ref["folder"], chaos["folder"]])
        print(f"canary hits on disk : {sum(hits.values())}" + "".join(f"\n  {k}: {v}" for k, v in sorted(hits.items())))
        latencies = sorted(r["response"]["timings"]["total_s"] for r in chaos_rows if not r["response"]["error"])
        retried = sum(1 for r in chaos_rows if (r["response"].get("attempts") or 1) > 1)
        if latencies:
            p50, p95 = latencies[len(latencies) // 2], latencies[int(0.95 * (len(latencies) - 1))]
            print(f"chaos run latency   : p50 {p50:.3f} s, p95 {p95:.3f} s (own time); {retried} samples retried")
        print(f"total               : {time.perf_counter() - started:.1f} s")
        ok = lost == 0 and duplicated == 0 and summary_equal and not hits
        if args.keep:
            print("kept                :", work)
        if not ok:
            print("TARGETS MISSED (see above)" + ("" if args.keep else "; run with --keep to look at the logs"))
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
