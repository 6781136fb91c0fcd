"""Evaluation harness that compares LLM approaches head-to-head on a team's own data."""

__version__ = "0.1.0"
