"""Judge audit trail.

Every judge request and reply (prompt, raw text, parse outcome, cached or not) is appended to a
JSONL file, so any judge score can be traced back to what the judge was asked and what it said.
(The judge cache, which keeps only replies that parsed, lives in llm_judge.LLMJudge.)
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from harness.metrics.base import MetricContext
from harness.secrets.scrub import scrub

AUDIT_FILE = "judge_audit.jsonl"


class AuditTrail:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, **entry: Any) -> str:
        """Append one call; returns its id (also stored in the score's detail)."""
        prompt = entry.get("prompt") or ""
        call_id = hashlib.sha256(f"{time.time_ns()}\0{prompt}".encode()).hexdigest()[:16]
        if self.path is not None:
            line = json.dumps({"call_id": call_id, "time": time.time(), **entry}, ensure_ascii=False, default=str)
            line = scrub(line)  # a judge reply or error may echo a key; the line is JSON either way
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return call_id


def audit_for(context: MetricContext) -> AuditTrail:
    """The run can point the trail at its own directory via extras['judge_audit_path']."""
    path = context.extras.get("judge_audit_path")
    if path is None and context.extras.get("run_dir") is not None:
        path = Path(context.extras["run_dir"]) / AUDIT_FILE
    if path is None:
        path = Path(context.cache_dir) / "judge" / AUDIT_FILE
    return AuditTrail(Path(path))

