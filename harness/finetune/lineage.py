"""The lineage record written beside each LoRA: enough to say what it is and to rebuild it.

A result from a fine-tuned system is only comparable if one can tell which base file, which
data, which settings and which library versions made the LoRA; the record keeps them.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.versions import package_versions

LINEAGE_FILE = "lineage.json"
LIBRARIES = ["harness-eval", "torch", "transformers", "peft", "accelerate", "gguf", "llama-cpp-python", "numpy"]


def library_versions() -> dict[str, str]:
    return package_versions(LIBRARIES)


def build_lineage(
    *,
    key: str,
    base: dict[str, Any],
    data: dict[str, Any],
    hyperparameters: dict[str, Any],
    prompt: dict[str, Any],
    result: Any,
    lora: dict[str, Any],
    built_for: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`result` is a trainer TrainResult: losses, counts, seconds, device."""
    return {
        "format": 1,
        "key": key,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base_model": base,
        "training_data": {**data, "n_examples": result.n_examples, "n_truncated": result.n_truncated},
        "hyperparameters": hyperparameters,
        "prompt_template": prompt,
        "loss_per_step": list(result.losses),
        "final_loss": result.losses[-1] if result.losses else None,
        "wall_time_s": {k: round(v, 3) for k, v in result.seconds.items()},
        "device": result.device,
        "trainable_parameters": result.trainable_parameters,
        "lora": lora,
        "libraries": library_versions(),
        "python": platform.python_version(),
        "built_for": built_for or {},
    }


def write_lineage(folder: Path, record: dict[str, Any]) -> Path:
    path = folder / LINEAGE_FILE
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_lineage(folder: Path) -> dict[str, Any]:
    return json.loads((folder / LINEAGE_FILE).read_text(encoding="utf-8"))
