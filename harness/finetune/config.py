"""The `train:` block of a fine-tuned system, the base models the local trainer can load, and the
checks that must fail before a run directory exists (too little data, unknown base, missing extra)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.errors import ConfigError

MIN_TRAIN_EXAMPLES = 8
INSTALL_HINT = "pip install -e '.[finetune]'"
# module the local trainer imports -> the package that provides it
TRAINER_MODULES = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate",
                   "gguf": "gguf", "llama_cpp": "llama-cpp-python"}
DEFAULT_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# Bump when the trainer or writer changes what a given config produces: old LoRAs stop matching.
TRAINER_VERSION = 1


class TrainConfig(BaseModel):
    """LoRA hyperparameters. Defaults follow the measured CPU recipe (r 8, alpha 16, lr 1e-3, batch 8);
    length defaults to one pass over the train split (the demo uses steps: 24)."""

    model_config = ConfigDict(extra="forbid")

    base_model: str | None = Field(
        None, description="Model to fine-tune and serve the LoRA on; default: the system's `model`."
    )
    lora_r: int = Field(8, gt=0)
    lora_alpha: float = Field(16.0, gt=0)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TARGET_MODULES), min_length=1)
    learning_rate: float = Field(1e-3, gt=0)
    steps: int | None = Field(None, gt=0, description="Optimizer steps; give steps or epochs, not both.")
    epochs: float | None = Field(None, gt=0, description="Passes over the train split (default 1).")
    batch_size: int = Field(8, gt=0)
    max_length: int = Field(256, ge=16, description="Tokens per example; longer prompts lose their start.")
    seed: int = 0

    @model_validator(mode="after")
    def _one_length(self) -> "TrainConfig":
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        return self

    def total_steps(self, n_examples: int) -> int:
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil((self.epochs or 1.0) * n_examples / self.batch_size))

    def hyperparameters(self) -> dict:
        """Everything that changes the LoRA (base model is recorded separately with its hash)."""
        return self.model_dump(exclude={"base_model"})


@dataclass(frozen=True)
class BaseModelSpec:
    """A base model the local trainer can load: where its GGUF file is, and the hash it must have."""

    name: str
    architecture: str
    sha256: str
    path: Callable[[], Path]


def _gemma_path() -> Path:
    from harness.local.model_file import gemma_path

    return gemma_path()


def _gemma_sha256() -> str:
    from harness.local.model_file import GEMMA_SHA256

    return GEMMA_SHA256


def supported_bases() -> dict[str, BaseModelSpec]:
    return {
        "local/gemma-3-270m": BaseModelSpec("local/gemma-3-270m", "gemma3", _gemma_sha256(), _gemma_path),
    }


def base_spec(name: str, *, where: str) -> BaseModelSpec:
    bases = supported_bases()
    if name not in bases:
        raise ConfigError(
            f"the local trainer cannot fine-tune {name!r}; it supports: {', '.join(bases)}. "
            "For a hosted model, export the data with `harness finetune SUITE --system NAME --hosted` "
            "and set `model:` to the fine-tuned model id (no `train:` block).",
            where=where,
        )
    return bases[name]


def missing_trainer_modules() -> list[str]:
    return [package for module, package in TRAINER_MODULES.items() if find_spec(module) is None]


def check_trainer_installed(*, where: str) -> None:
    if missing := missing_trainer_modules():
        raise ConfigError(
            f"local fine-tuning needs {', '.join(missing)} (not installed); install with: {INSTALL_HINT}",
            where=where,
        )


def check_train_size(n_usable: int, n_total: int, *, where: str) -> None:
    if n_usable >= MIN_TRAIN_EXAMPLES:
        return
    detail = f"{n_usable} of {n_total} train examples have a reference answer" if n_total else "the train split is empty"
    raise ConfigError(
        f"fine-tuning needs at least {MIN_TRAIN_EXAMPLES} train examples with a reference answer; {detail} "
        "(rows with split: train, or dataset.train)",
        where=where,
    )
