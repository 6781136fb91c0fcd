"""End to end through `harness run` on the scripted model: the run directory contract,
the cache, resume after a kill, interruption, and bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import qa_rows, scripted_suite, write_suite

SUMMARY_COLUMNS = ["system", "metric", "mean", "ci_low", "ci_high", "n", "n_undefined", "n_error"]


def harness(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, **(env or {})}, timeout=300,
    )


def samples(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


def test_run_writes_the_contract_and_rerun_is_cached(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, scripted_suite(qa_rows(20)))
    done = harness("run", str(suite), "--out", "run1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "run1"
    assert done.stdout.strip().splitlines()[-1] == "run1"
    header = json.loads((run / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"] == {"planned": 60, "done": 60, "errors": 0}
    assert header["suite"]["name"] == "scripted" and len(header["suite"]["content_hash"]) == 64
    assert set(header["systems"]) == {"plain", "cued", "echo"} and header["systems"]["cued"]["kind"] == "prompt"
    rows = samples(run)
    assert len(rows) == 60 and len({(r["system"], r["example"]["id"]) for r in rows}) == 60
    with (run / "summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == SUMMARY_COLUMNS
    means = {(r["system"], r["metric"]): r for r in table}
    assert float(means["cued", "exact_match"]["mean"]) == 1.0  # the rule matches the 'Q:' cue
    assert float(means["plain", "exact_match"]["mean"]) == 0.0
    assert means["plain", "retrieval_latency_s"]["mean"] == "" and means["plain", "retrieval_latency_s"]["n_undefined"] == "20"
    assert not any(r["response"]["cached"] for r in rows)

    again = harness("run", str(suite), "--out", "run2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun = samples(tmp_path / "run2")
    assert len(rerun) == 60 and all(r["response"]["cached"] for r in rerun)
    first = {(r["system"], r["example"]["id"]): r["response"]["text"] for r in rows}
    assert {(r["system"], r["example"]["id"]): r["response"]["text"] for r in rerun} == first


def test_failed_calls_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    spec = scripted_suite(qa_rows(10))
    spec["scripted_models"]["adder"]["error_rate"] = 1.0
    spec["settings"] = {"retry": {"max_attempts": 2, "initial_delay_s": 0.001}}
    done = harness("run", str(write_suite(tmp_path, spec)), "--out", "run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # finished and fully written, but unusable
    assert "unusable run: 20 of 30 samples failed (67%), above settings.max_error_rate 10%" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "run"
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"]["errors"] == 20 and header["counts"]["done"] == 30
    assert "20 errors" in done.stderr
    failed = [r for r in samples(tmp_path / "run") if r["system"] == "plain"]
    assert all("simulated error 503 after 2 attempts" in r["response"]["error"] for r in failed)
    assert all(r["scores"]["exact_match"]["status"] == "error" for r in failed)
    with (tmp_path / "run" / "summary.csv").open() as handle:
        table = {(r["system"], r["metric"]): r for r in csv.DictReader(handle)}
    assert table["plain", "exact_match"]["n_error"] == "10" and table["plain", "exact_match"]["mean"] == ""
    assert table["echo", "exact_match"]["n"] == "10"


def test_the_error_share_a_run_tolerates_is_a_setting(tmp_path: Path) -> None:
    spec = scripted_suite(qa_rows(10))
    spec["scripted_models"]["adder"]["error_rate"] = 1.0
    spec["settings"] = {"retry": {"max_attempts": 1}, "max_error_rate": 0.7}
    done = harness("run", str(write_suite(tmp_path, spec)), "--out", "run", "--no-report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "unusable" not in done.stderr


def test_a_provider_refusing_every_call_makes_the_run_unusable(tmp_path: Path) -> None:
    """401 on every call used to end `complete` with exit 0: a CI job would have trusted it."""
    from harness.testing.fake_openai import FakeOpenAI, Reply

    refuse = Reply(status=401, body={"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
    spec = {
        "name": "hosted", "dataset": {"inline": qa_rows(4)},
        "systems": {"gpt": {"kind": "prompt", "model": "openai/fake-model"}},
        "metrics": ["exact_match"], "settings": {"retry": {"max_attempts": 1}},
    }
    with FakeOpenAI(lambda request: refuse) as server:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.url, "OPENAI_API_BASE": server.url}
        done = harness("run", str(write_suite(tmp_path, spec)), "--out", "run", "--no-report", "--no-cache",
                       cwd=tmp_path, env=env)
        assert len(server.chat_requests()) == 4
    assert done.returncode == 3, done.stderr
    assert "unusable run: 4 of 4 samples failed (100%)" in done.stderr
    rows = samples(tmp_path / "run")
    assert len(rows) == 4 and all("401" in r["response"]["error"] or "AuthenticationError" in r["response"]["error"] for r in rows)


def wait_for_lines(path: Path, n: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {n} lines")


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_then_resume_finishes_without_duplicates(tmp_path: Path) -> None:
    spec = scripted_suite(qa_rows(20))
    spec["scripted_models"]["adder"]["latency_ms"] = 100
    spec["scripted_models"]["slow_echo"] = {"latency_ms": 100}
    spec["systems"]["echo"]["model"] = "scripted/slow_echo"
    spec["settings"] = {"concurrency": 2}
    suite = write_suite(tmp_path, spec)
    process = start(["run", str(suite), "--out", "run", "--no-cache"], tmp_path)
    wait_for_lines(tmp_path / "run" / "samples.jsonl", 12)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = samples(tmp_path / "run")
    assert 12 <= len(partial) < 60
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "running"
    with (tmp_path / "run" / "samples.jsonl").open("a") as handle:
        handle.write('{"system": "plain", "exam')  # a line torn by the kill
    done = harness("run", "--resume", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = samples(tmp_path / "run")
    assert len(rows) == 60 and len({(r["system"], r["example"]["id"]) for r in rows}) == 60
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"]["done"] == 60


def test_sigterm_marks_the_run_interrupted_and_keeps_work(tmp_path: Path) -> None:
    spec = scripted_suite(qa_rows(30))
    for name in ("adder",):
        spec["scripted_models"][name]["latency_ms"] = 200
    spec["systems"]["echo"]["model"] = "scripted/adder"
    spec["settings"] = {"concurrency": 2}
    process = start(["run", str(write_suite(tmp_path, spec)), "--out", "run", "--no-cache"], tmp_path)
    wait_for_lines(tmp_path / "run" / "samples.jsonl", 4)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    rows = samples(tmp_path / "run")
    assert header["status"] == "interrupted" and header["counts"]["done"] == len(rows) < 90
    assert (tmp_path / "run" / "summary.csv").exists()
    assert out.strip().splitlines()[-1] == "run"


def test_resume_refuses_a_changed_suite(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, scripted_suite(qa_rows(3)))
    assert harness("run", str(suite), "--out", "run", cwd=tmp_path).returncode == 0
    write_suite(tmp_path, scripted_suite(qa_rows(4)))
    done = harness("run", "--resume", "run", cwd=tmp_path)
    assert done.returncode == 2 and "suite file" in done.stderr and "changed" in done.stderr


def test_limit_and_systems_filter(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, scripted_suite(qa_rows(10)))
    done = harness("run", str(suite), "--out", "run", "--limit", "4", "--systems", "cued,echo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = samples(tmp_path / "run")
    assert len(rows) == 8 and {r["system"] for r in rows} == {"cued", "echo"}
    bad = harness("run", str(suite), "--out", "run2", "--systems", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "no system named 'nope'" in bad.stderr
    assert not (tmp_path / "run2").exists()


def test_bad_input_exits_2_without_a_run_directory(tmp_path: Path) -> None:
    cases = {
        "missing.yaml": None,
        "malformed.yaml": "name: [unclosed\n",
        "kind.yaml": {"name": "x", "dataset": {"inline": [{"input": "a"}]}, "systems": {"s": {"kind": "quantum"}}},
        "dupes.yaml": scripted_suite([{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]),
        "empty.yaml": scripted_suite([{"id": "a", "input": "x", "split": "train"}]),
        "func.yaml": {"name": "x", "dataset": {"inline": [{"input": "a"}]}, "systems": {"mine": {"kind": "custom", "function": "no_such_module:answer"}}},
    }
    for name, content in cases.items():
        if isinstance(content, dict):
            write_suite(tmp_path, content, name=name)
        elif content is not None:
            (tmp_path / name).write_text(content)
        done = harness("run", name, "--out", f"out-{name}", cwd=tmp_path)
        assert done.returncode == 2, (name, done.stderr)
        assert done.stderr.startswith("error: "), (name, done.stderr)
        assert not (tmp_path / f"out-{name}").exists(), name
    expected = {
        "missing.yaml": "suite file not found",
        "kind.yaml": "systems.s.kind: unknown system kind 'quantum'",
        "dupes.yaml": "duplicate id 'a' in the 'test' split",
        "empty.yaml": "no examples in the 'test' split",
        "func.yaml": "systems.mine.function: cannot import module 'no_such_module'",
    }
    for name, message in expected.items():
        assert message in harness("run", name, cwd=tmp_path).stderr, name


def test_a_failing_metric_marks_the_run_degraded(tmp_path: Path) -> None:
    spec = scripted_suite(qa_rows(5))
    spec["scripted_models"]["judge"] = {"default": "not json at all"}
    spec["judge"] = {"model": "scripted/judge", "max_error_rate": 0.2}
    spec["systems"] = {"cued": spec["systems"]["cued"]}
    spec["metrics"] = ["exact_match", {"type": "factual_correctness"}]
    done = harness("run", str(write_suite(tmp_path, spec)), "--out", "run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # a broken judge makes the run unusable for CI
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "complete" and (tmp_path / "run" / "report.md").exists()
    assert len(header["degraded"]) == 1 and header["degraded"][0].startswith("DEGRADED: factual_correctness failed on 5 of 5")
    assert "error: unusable run: DEGRADED: factual_correctness" in done.stderr


def test_answers_that_never_wait_still_hand_the_loop_back(tmp_path: Path, monkeypatch) -> None:
    """Cache hits and in-process models answer without ever waiting: the workers must still let
    the event loop run between samples, or its callbacks (Ctrl-C, SIGTERM, cancelled timers being
    dropped) wait for the whole run."""
    import asyncio

    import harness.engine.runner as runner
    from harness.engine.launch import start_run
    from harness.engine.plan import RunOptions

    monkeypatch.setenv("HARNESS_DB", "off")
    suite = write_suite(tmp_path, {  # 600 pairs, each answered at once
        "name": "instant", "dataset": {"inline": qa_rows(200)}, "scripted_models": {"now": {"latency_ms": 0}},
        "systems": {f"s{i}": {"kind": "prompt", "model": "scripted/now"} for i in range(3)},
        "metrics": ["exact_match", "latency", "usage"], "settings": {"concurrency": 4},
    })
    passes, seen = [0], []  # loop passes so far, as each sample starts
    original = runner.respond_safely

    async def respond(system, example):
        if not seen:
            loop = asyncio.get_running_loop()

            def tick() -> None:  # runs once per pass of the loop
                passes[0] += 1
                loop.call_soon(tick)

            loop.call_soon(tick)
        seen.append(passes[0])
        return await original(system, example)

    monkeypatch.setattr(runner, "respond_safely", respond)
    start_run(suite, RunOptions(out=tmp_path / "run", progress=False, reports=False, cache_dir=tmp_path / "cache"))
    assert len(seen) == 600
    assert seen[-1] >= 600 // 64  # 64 workers: at least one pass of the loop for every 64 samples
    passes[0], seen[:] = 0, []  # again, every answer now from the cache (a hit waits for its lookup)
    start_run(suite, RunOptions(out=tmp_path / "again", progress=False, reports=False, cache_dir=tmp_path / "cache"))
    rows = [json.loads(line) for line in (tmp_path / "again" / "samples.jsonl").read_text().splitlines()]
    assert len(seen) == 600 and all(r["response"]["cached"] for r in rows)
    assert seen[-1] >= 600 // 64


def test_workers_fill_every_providers_slots_and_no_more_wait_behind_them() -> None:
    """One provider at concurrency 500: its 500 slots and 500 ready behind them (not 2,000: each
    waiting worker holds its prepared call). Several providers: all their slots, up to 4x."""
    from types import SimpleNamespace

    from harness.gateway.gateway import Gateway
    from harness.engine.runner import worker_count

    def plan(models: list[str | None], concurrency: int, judge: str | None = None, **per_provider: int):
        systems = {f"s{i}": SimpleNamespace(model=m) if m else SimpleNamespace() for i, m in enumerate(models)}
        suite = SimpleNamespace(systems=systems, judge=SimpleNamespace(model=judge),
                                settings=SimpleNamespace(concurrency=concurrency))
        return SimpleNamespace(suite=suite, gateway=Gateway(concurrency=concurrency, concurrency_per_provider=per_provider))

    assert worker_count(plan(["scripted/a", "scripted/b"], 500)) == 1000
    assert worker_count(plan(["openai/x", "anthropic/y"], 50)) == 150
    assert worker_count(plan(["openai/x"], 50, judge="anthropic/j")) == 150  # judge calls take slots too
    assert worker_count(plan(["openai/x", "anthropic/y"], 50, anthropic=150)) == 250  # 200 slots, capped at 4x
    assert worker_count(plan(["a/x", "b/x", "c/x", "d/x", "e/x", "f/x"], 100)) == 500
    assert worker_count(plan([None], 500)) == 1000  # no model named: the suite's concurrency
    assert worker_count(plan(["local/gemma-3-270m"], 4)) == 64  # the local model's 7, and at least 64
