"""What bounding scoring (issue 23, item 3) costs per score, in this process.

Prints microseconds per score through `harness.engine.scoring.score_sample`:
- exact_match, which declares `bounded` (never waits): no timer;
- the same metric wrapped as a plug-in that declares nothing: scored under `asyncio.timeout`;
- the regex metric on an ordinary answer (bounded_regex's inline path: the `regex` engine with
  a timeout), beside a plain `re.search` of the same pattern (what the metric did before);
- one hop to a scoring thread and back (what the slow path adds, and what every cheap metric
  would pay if all scoring went to threads);
- json_schema on a small object with one pattern.
A fully cached 5,000-call run spends ~0.24 ms per call in all, so a few microseconds per score
are noise and a thread hop per score is not.

    python benchmarks/bench_scoring.py [--scores 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


async def per_score_us(make: Any, scores: int) -> float:
    for _ in range(200):
        await make()
    started = time.perf_counter()
    for _ in range(scores):
        await make()
    return (time.perf_counter() - started) / scores * 1e6


async def run(scores: int) -> None:
    from harness.metrics.base import MetricContext
    from harness.metrics.basic import ExactMatch, ExactMatchConfig
    from harness.metrics.bounded_regex import scoring_pool
    from harness.metrics.format import JsonSchema, JsonSchemaConfig
    from harness.metrics.regex_match import RegexConfig, RegexMatch
    from harness.engine.scoring import score_sample
    from harness.types import Example, Response

    suite = SimpleNamespace(settings=SimpleNamespace(scoring_timeout_s=120.0), metrics=[], answer_format=None)
    context = MetricContext(suite=suite, gateway=None, cache_dir=Path("."))  # type: ignore[arg-type]
    example = Example(id="x", input="How long is the warranty?", reference="2 years")
    answer = Response(text="The warranty lasts 2 years and covers water damage.")
    exact = ExactMatch(ExactMatchConfig(type="exact_match"), context)

    class PlugIn:  # declares nothing: the runner cannot know it never waits
        names = exact.names

        async def score(self, example: Example, response: Response) -> Any:
            return await exact.score(example, response)

    regex = RegexMatch(RegexConfig(type="regex", pattern=r"\d+ years"), context)
    plain = re.compile(r"\d+ years", re.S)
    schema = {"type": "object", "properties": {"answer": {"type": "string", "pattern": "^[A-Z]"}}}
    checker = JsonSchema(JsonSchemaConfig(type="json_schema", schema=schema), context)
    as_json = Response(text='{"answer": "The warranty lasts 2 years."}')

    async def plain_re() -> None:
        plain.search(answer.text)

    async def hop() -> None:
        await scoring_pool().run(len, ("x",), {}, timeout_s=60)

    rows = [
        ("exact_match (bounded: no timer)", lambda: score_sample([exact], example, answer, 120.0), scores),
        ("the same as an undeclared plug-in (timer)", lambda: score_sample([PlugIn()], example, answer, 120.0), scores),
        ("regex metric (bounded_regex, inline)", lambda: score_sample([regex], example, answer, 120.0), scores),
        ("re.search alone (the regex metric before)", plain_re, scores),
        ("one scoring-thread hop", hop, scores // 10),
        ("json_schema, one pattern", lambda: score_sample([checker], example, as_json, 120.0), scores // 4),
    ]
    for label, make, n in rows:
        print(f"{label:45s} {await per_score_us(make, n):8.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=20000)
    asyncio.run(run(parser.parse_args().scores))


if __name__ == "__main__":
    main()
