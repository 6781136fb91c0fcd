"""Scoring one sample: every metric's score, each bounded by `settings.scoring_timeout_s`.

A metric that waits (a judge model, an embedding, a worker thread) is scored under a timer: past
the limit its scores are `error` ("scoring timed out after N s") and the sample, and the run,
go on. A timer can only stop code that waits, so metrics that never wait declare `bounded`
(see `Metric`) and skip its cost; heavy work that cannot wait is kept off the event loop by the
metric itself (`bounded_regex`). A metric that fails is `error` with the reason, never the run.
"""

from __future__ import annotations

import asyncio

from harness.gateway.retry import describe
from harness.metrics.base import Metric, ScoringTimeout, failed_response_scores, scoring_limit
from harness.types import Example, Response, Score


async def score_sample(
    metrics: list[Metric], example: Example, response: Response, limit_s: float | None = None
) -> dict[str, Score]:
    """Scores by name; `limit_s` defaults to the setting's default."""
    limit_s = scoring_limit(None) if limit_s is None else limit_s
    scores: dict[str, Score] = {}
    for metric in metrics:
        if response.error is not None:
            results = failed_response_scores(metric, response)
        else:
            results = await score_one(metric, example, response, limit_s)
        for score in results:
            scores[score.name] = score
    return scores


async def score_one(metric: Metric, example: Example, response: Response, limit_s: float) -> list[Score]:
    """The metric's scores for one response, or `error` scores saying why there are none."""
    try:
        if getattr(metric, "bounded", False):
            return await metric.score(example, response)
        timer = asyncio.timeout(limit_s)
        try:
            async with timer:
                return await metric.score(example, response)
        except TimeoutError:
            if not timer.expired():
                raise  # the metric's own TimeoutError: a failure, below
            raise ScoringTimeout(limit_s) from None
    except ScoringTimeout as error:
        return [Score.failed(name, str(error)) for name in metric.names]
    except (Exception, SystemExit, GeneratorExit) as error:  # noqa: BLE001 - a broken (plug-in) metric, even one calling sys.exit(), must not end the run
        return [Score.failed(name, f"metric failed: {describe(error)}") for name in metric.names]
