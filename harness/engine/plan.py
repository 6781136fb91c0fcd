"""A run's plan: the pre-flight's systems and metrics, with the response cache opened.

Every check lives in `harness.engine.preflight` (shared with `harness validate`); bad input fails there,
with exit code 2, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from harness.gateway.cache import ResponseCache
from harness.engine.preflight import RunOptions, RunPlan, default_run_dir, preflight

__all__ = ["RunOptions", "RunPlan", "default_run_dir", "plan_run"]


def plan_run(suite_path: str | Path, options: RunOptions) -> RunPlan:
    plan = preflight(suite_path, options)
    if options.use_cache:
        plan.gateway.cache = ResponseCache.in_dir(plan.cache_dir)
    return plan
