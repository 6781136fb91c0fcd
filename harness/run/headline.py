"""The metric a run is summed up by (report.md's headline, the run store's `headline` column)."""

from __future__ import annotations

# Preferred headline metrics (first present wins); otherwise the first quality metric.
HEADLINE = ["exact_match", "contains_answer", "token_f1", "factual_correctness", "faithfulness",
            "json_schema", "field_accuracy", "semantic_similarity", "recall@5"]


def headline_of(quality_metrics: list[str]) -> str | None:
    """The first preferred metric present, else the first quality metric."""
    return next((m for m in HEADLINE if m in quality_metrics), quality_metrics[0] if quality_metrics else None)
