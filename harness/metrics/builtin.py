"""Importing this module registers every built-in metric type."""

from harness.metrics import basic  # noqa: F401
