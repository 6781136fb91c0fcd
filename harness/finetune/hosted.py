"""Hosted fine-tuning: the same training pairs as OpenAI chat fine-tuning JSONL, and an optional
job submitted and polled through litellm's fine-tuning API.

The messages are exactly what the system sends at eval time, plus the reference answer as the
assistant turn, so the hosted model is trained on the prompt it will be evaluated with.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from harness.finetune.data import TrainingRecord

DEFAULT_HOSTED_BASE = "gpt-4o-mini-2024-07-18"
TERMINAL = {"succeeded", "failed", "cancelled"}


def write_chat_jsonl(records: list[TrainingRecord], path: Path) -> Path:
    """One `{"messages": [...]}` object per line; written under a temp name, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    with partial.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.chat_row(), ensure_ascii=False) + "\n")
    os.replace(partial, path)
    return path


def hosted_base(model: str | None) -> str:
    """The provider model to fine-tune: the system's model without `openai/`, unless it is local."""
    if not model or model.startswith(("local/", "scripted/")):
        return DEFAULT_HOSTED_BASE
    return model.removeprefix("openai/")


def manual_instructions(path: Path, base: str) -> str:
    return (
        "OPENAI_API_KEY is not set, so nothing was submitted. To submit the written file:\n"
        f"  export OPENAI_API_KEY=sk-...\n"
        f"  harness finetune SUITE --system NAME --hosted --submit --base-model {base}\n"
        "or by hand with the OpenAI API:\n"
        f"  curl https://api.openai.com/v1/files -H \"Authorization: Bearer $OPENAI_API_KEY\" "
        f"-F purpose=fine-tune -F file=@{path}\n"
        f"  curl https://api.openai.com/v1/fine_tuning/jobs -H \"Authorization: Bearer $OPENAI_API_KEY\" "
        f"-H 'Content-Type: application/json' -d '{{\"training_file\": \"<file id from above>\", \"model\": \"{base}\"}}'\n"
        "When the job succeeds, set the system's `model: openai/<fine_tuned_model>` and drop its `train:` block."
    )


def submit_job(path: Path, base: str, *, suffix: str | None = None, seed: int | None = None) -> Any:
    """Upload the file and create the job (OpenAI through litellm); returns litellm's job object."""
    from harness.gateway.providers import load_litellm

    litellm = load_litellm()
    with path.open("rb") as handle:
        uploaded = litellm.create_file(file=handle, purpose="fine-tune", custom_llm_provider="openai")
    return litellm.create_fine_tuning_job(
        model=base, training_file=uploaded.id, suffix=suffix, seed=seed, custom_llm_provider="openai"
    )


def poll_job(
    job_id: str,
    *,
    interval_s: float = 30.0,
    timeout_s: float | None = None,
    retrieve: Callable[[str], Any] | None = None,
    report: Callable[[str], None] | None = None,
) -> Any:
    """Poll until the job ends (or timeout_s passes); returns the last job object seen."""
    if retrieve is None:
        from harness.gateway.providers import load_litellm

        litellm = load_litellm()

        def retrieve(job: str) -> Any:
            return litellm.retrieve_fine_tuning_job(fine_tuning_job_id=job, custom_llm_provider="openai")

    report = report or (lambda line: print(line, file=sys.stderr, flush=True))
    started, last = time.monotonic(), None
    while True:
        job = retrieve(job_id)
        status = str(getattr(job, "status", "unknown"))
        if status != last:
            report(f"job {job_id}: {status}")
            last = status
        if status in TERMINAL:
            return job
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            return job
        time.sleep(interval_s)

