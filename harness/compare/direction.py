"""Which way is better for a metric, by name. One place so compare, gate and reports agree.

Metric names are open-ended (plug-ins add their own), so the rule is by name: the cost side
(latency, cost, tokens, errors) is lower-is-better, everything else higher-is-better.
"""

from __future__ import annotations

LOWER_IS_BETTER = frozenset({"latency_s", "cost_usd", "tokens_in", "tokens_out", "error_rate"})
LOWER_IS_BETTER_SUFFIXES = ("_latency_s",)


def higher_is_better(metric: str) -> bool:
    """True unless the metric is a cost (latency_s, *_latency_s, cost_usd, tokens_*, error_rate)."""
    return not (metric in LOWER_IS_BETTER or metric.endswith(LOWER_IS_BETTER_SUFFIXES))


def is_worse(metric: str, delta: float) -> bool:
    """Whether a change of `delta` (new - base) is a move in the bad direction."""
    return delta < 0 if higher_is_better(metric) else delta > 0


def arrow(metric: str) -> str:
    """A marker for tables: the good direction of the metric."""
    return "↑" if higher_is_better(metric) else "↓"
