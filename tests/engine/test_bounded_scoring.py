"""Scoring is bounded like calls: a metric past `settings.scoring_timeout_s` is `error` saying so
and the run goes on; a user's pattern that backtracks without end (`^(a|a)+$` on a looping model's
output) is stopped, never freezes the event loop, and SIGTERM still ends the run at once."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.conftest import write_suite

from harness.metrics.base import MetricContext
from harness.metrics.format import JsonSchema, JsonSchemaConfig
from harness.metrics.regex_match import RegexConfig, RegexMatch
from harness.engine.scoring import score_sample
from harness.types import Example, Response, Score

LOOPING = "a" * 40 + "b"  # what a model stuck repeating itself returns
EXPLODES = "^(a|a)+$"  # exponential backtracking on LOOPING, in `re` and `regex` alike
EXAMPLE = Example(id="x", input="q", reference="a")


def context(limit_s: float) -> MetricContext:
    suite = SimpleNamespace(settings=SimpleNamespace(scoring_timeout_s=limit_s), metrics=[], answer_format=None)
    return MetricContext(suite=suite, gateway=None, cache_dir=Path("."))  # type: ignore[arg-type]


def score_with_loop_watch(metric: Any, text: str) -> tuple[Score, float, float]:
    """(score, seconds it took, the event loop's longest stall meanwhile)."""

    async def go() -> tuple[Score, float, float]:
        stalls = [0.0]

        async def watch() -> None:
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                stalls[0] = max(stalls[0], time.perf_counter() - before - 0.01)

        watcher = asyncio.ensure_future(watch())
        started = time.perf_counter()
        [score] = await metric.score(EXAMPLE, Response(text=text))
        took = time.perf_counter() - started
        watcher.cancel()
        return score, took, stalls[0]

    gc.disable()  # a full collection of the test session's heap is itself a stall of half a second
    try:
        return asyncio.run(go())
    finally:
        gc.enable()


def test_a_pattern_that_backtracks_forever_is_an_error_and_the_loop_runs_on() -> None:
    metric = RegexMatch(RegexConfig(type="regex", pattern=EXPLODES), context(0.5))
    score, took, stall = score_with_loop_watch(metric, LOOPING)
    assert score.status == "error" and score.reason is not None
    assert score.reason.startswith("scoring timed out after 0.5 s: pattern '^(a|a)+$' on a 41-character text")
    assert took < 10 and stall < 0.1, (took, stall)


def test_the_issues_pattern_is_answered_not_timed_out() -> None:
    """`^(a+)+$` froze `re` for minutes; the regex engine sees through it: a plain no-match."""
    metric = RegexMatch(RegexConfig(type="regex", pattern="^(a+)+$"), context(5))
    score, took, _ = score_with_loop_watch(metric, LOOPING)
    assert score.status == "ok" and score.value == 0.0 and took < 0.5


@pytest.mark.parametrize("pattern", [r"\d+ years", "^yes$", "colou?r", r"(?i)WARRANTY", r"a.b", r"^\w+\s\w+$", r"\bend$"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_patterns_match_as_pythons_re_did(pattern: str, ignore_case: bool) -> None:
    """Same flags as before (re.S always, re.I on ignore_case), same answers."""
    texts = ["It lasts 2 years.", "yes", "Yes", "colour and color", "the warranty", "a\nb", "two words", "the end\n", "END"]
    flags = re.S | (re.I if ignore_case else 0)
    for mode in ("search", "fullmatch"):
        metric = RegexMatch(RegexConfig(type="regex", pattern=pattern, mode=mode, ignore_case=ignore_case), context(5))
        for text in texts:
            old = re.compile(pattern, flags)
            expected = old.fullmatch(text.strip()) if mode == "fullmatch" else old.search(text)
            [score] = asyncio.run(metric.score(EXAMPLE, Response(text=text)))
            assert score.value == float(expected is not None), (pattern, mode, text)


@pytest.mark.parametrize(
    ("schema", "output"),
    [
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": EXPLODES}}}, {"a": LOOPING}),
        ({"type": "object", "patternProperties": {EXPLODES: {"type": "integer"}}}, {LOOPING: 1}),
        ({"type": "object", "patternProperties": {EXPLODES: {}}, "additionalProperties": False}, {LOOPING: 1}),
        ({"type": "object", "propertyNames": {"pattern": EXPLODES}}, {LOOPING: 1}),
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "propertyNames"],
)
def test_json_schema_patterns_are_bounded(schema: dict[str, Any], output: Any) -> None:
    metric = JsonSchema(JsonSchemaConfig(type="json_schema", schema=schema), context(0.5))
    score, took, stall = score_with_loop_watch(metric, json.dumps(output))
    assert score.status == "error" and "scoring timed out after 0.5 s: pattern" in (score.reason or "")
    assert score.detail["draft"] == "2020-12" and took < 10 and stall < 0.1, (took, stall)


class Hangs:
    """A plug-in metric waiting on something that never answers."""

    names = ["hangs"]

    async def score(self, example: Example, response: Response) -> list[Score]:
        await asyncio.Event().wait()
        return []


class OwnTimeout:
    names = ["own"]

    async def score(self, example: Example, response: Response) -> list[Score]:
        raise TimeoutError("the metric's database took too long")


def test_a_metric_that_never_answers_is_an_error_and_the_others_still_score() -> None:
    from harness.metrics.basic import ExactMatch, ExactMatchConfig

    metrics = [Hangs(), OwnTimeout(), ExactMatch(ExactMatchConfig(type="exact_match"), context(5))]
    started = time.perf_counter()
    scores = asyncio.run(score_sample(metrics, EXAMPLE, Response(text="a"), 0.2))  # type: ignore[arg-type]
    assert time.perf_counter() - started < 2
    assert scores["hangs"].status == "error" and scores["hangs"].reason == "scoring timed out after 0.2 s"
    assert scores["own"].status == "error" and "metric failed" in (scores["own"].reason or "")
    assert "database took too long" in (scores["own"].reason or "")
    assert scores["exact_match"].value == 1.0


class Exits:
    names = ["exits"]

    async def score(self, example: Example, response: Response) -> list[Score]:
        sys.exit(0)  # a plug-in's code: it must not end the run with exit 0


def test_a_metric_that_calls_sys_exit_is_an_error_not_the_end_of_the_run() -> None:
    scores = asyncio.run(score_sample([Exits()], EXAMPLE, Response(text="a"), 5))  # type: ignore[list-item]
    assert scores["exits"].status == "error" and scores["exits"].reason == "metric failed: SystemExit: 0"


@pytest.mark.parametrize("value", [0, -1, "inf", 100_000])
def test_the_scoring_limit_is_a_checked_setting(value: Any) -> None:
    from harness.errors import SuiteError
    from harness.suite.loader import parse_suite

    raw = {"name": "t", "dataset": {"inline": [{"id": "a", "input": "q", "reference": "r"}]},
           "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}, "settings": {"scoring_timeout_s": 5}}
    assert parse_suite(raw, base_dir=Path(".")).settings.scoring_timeout_s == 5
    raw["settings"] = {"scoring_timeout_s": float(value)}
    with pytest.raises(SuiteError, match="settings.scoring_timeout_s"):
        parse_suite(raw, base_dir=Path("."))


def looping_suite(tmp_path: Path, *, loops: int, limit_s: float) -> Path:
    """Six ordinary examples, then `loops` the model answers by looping; the regex metric explodes
    on those, and the issue's own pattern `^(a+)+$` is checked next to it."""
    rows = [{"id": f"q{i}", "input": f"question {i}", "reference": "fine"} for i in range(6)]
    rows += [{"id": f"loop{i}", "input": f"please loop {i}", "reference": "fine"} for i in range(loops)]
    return write_suite(tmp_path, {
        "name": "looping", "dataset": {"inline": rows},
        "scripted_models": {"looper": {"rules": [{"match": "loop", "output": LOOPING}], "default": "fine"}},
        "systems": {"model": {"kind": "prompt", "model": "scripted/looper"}},
        "metrics": ["exact_match", {"type": "regex", "pattern": EXPLODES},
                    {"type": "regex", "name": "issue_pattern", "pattern": "^(a+)+$"}],
        "settings": {"scoring_timeout_s": limit_s, "concurrency": 4},
    })  # fmt: skip


def harness_run(tmp_path: Path, suite: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(suite), "--out", "run", "--no-report", "--no-cache"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip


def rows_of(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "run" / "samples.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_run_with_an_exploding_pattern_completes_with_those_scores_in_error(tmp_path: Path) -> None:
    started = time.perf_counter()
    process = harness_run(tmp_path, looping_suite(tmp_path, loops=3, limit_s=1))
    try:
        _, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert time.perf_counter() - started < 90
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "complete" and header["counts"]["done"] == 9, err
    by_id = {r["example"]["id"]: r["scores"] for r in rows_of(tmp_path)}
    for i in range(3):
        regex = by_id[f"loop{i}"]["regex"]
        assert regex["status"] == "error" and regex["reason"].startswith("scoring timed out after 1 s"), regex
        assert by_id[f"loop{i}"]["issue_pattern"]["status"] == "ok"
    assert all(by_id[f"q{i}"]["regex"]["status"] == "ok" for i in range(6))


def test_sigterm_during_a_stuck_scoring_ends_the_run_within_seconds(tmp_path: Path) -> None:
    process = harness_run(tmp_path, looping_suite(tmp_path, loops=4, limit_s=600))
    try:
        deadline = time.time() + 90
        while len(rows_of(tmp_path)) < 6 and time.time() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert len(rows_of(tmp_path)) == 6, "the ordinary examples were never written"
        time.sleep(0.5)  # the looping examples' scoring is under way, and stuck
        sent = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        ended = time.perf_counter() - sent
    finally:
        process.kill()
    assert ended < 5, (ended, err)
    assert process.returncode == 130, err
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["status"] == "interrupted" and header["counts"]["done"] == 6
    assert sorted(r["example"]["id"] for r in rows_of(tmp_path)) == [f"q{i}" for i in range(6)]
