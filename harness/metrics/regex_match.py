"""`regex`: 1 when the answer (or one JSON field of it) matches the pattern, else 0 with the reason.

The pattern is `re`'s syntax (always DOTALL; IGNORECASE on `ignore_case`), matched by
`bounded_regex` within `settings.scoring_timeout_s`: past it the score is `error`.
"""

from __future__ import annotations

from typing import Any, Literal

from harness.errors import ConfigError
from harness.metrics.base import Metric, MetricConfig, MetricContext, ScoringTimeout, metric_type, scoring_limit
from harness.metrics.bounded_regex import PatternError, bounded, compile_pattern, search
from harness.metrics.extract import answer_text
from harness.metrics.format import _zero, metric_location
from harness.types import Example, Response, Score


class RegexConfig(MetricConfig):
    type: Literal["regex"]
    name: str = "regex"
    pattern: str
    json_field: str | None = None
    mode: Literal["search", "fullmatch"] = "search"
    ignore_case: bool = False


class RegexMatch(Metric):
    group = "format"
    bounded = True

    def __init__(self, config: RegexConfig, context: MetricContext | None = None):
        self.config = config
        self.names = [config.name]
        self.limit_s = scoring_limit(context)
        try:
            self.pattern = compile_pattern(config.pattern, ignore_case=config.ignore_case, dot_all=True)
        except PatternError as error:
            raise ConfigError(f"invalid pattern {config.pattern!r}: {error}", where=metric_location(config, context)) from None

    def _match(self, text: str) -> Any:
        full = self.config.mode == "fullmatch"
        return search(self.pattern, text.strip() if full else text, full=full)

    async def score(self, example: Example, response: Response) -> list[Score]:
        text, source = answer_text(response, self.config.json_field)
        try:
            match = await bounded(self._match, text, limit_s=self.limit_s)
        except ScoringTimeout as error:
            return [Score.failed(self.config.name, str(error), source=source)]
        if match is None:
            return [_zero(self.config.name, f"no match for {self.config.pattern!r}", source=source)]
        return [Score.ok(self.config.name, 1.0, source=source)]


metric_type("regex", RegexConfig)(RegexMatch)
