"""Metrics: registered by name, configured in the suite, each score `ok`, `undefined` or `error`."""

from harness.metrics.base import Metric, MetricConfig, MetricContext, load_metric_types, metric_type

__all__ = ["Metric", "MetricConfig", "MetricContext", "load_metric_types", "metric_type"]
