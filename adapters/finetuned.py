"""`kind: finetuned` - an existing fine-tuned model (`model: openai/ft:...`), or a LoRA trained here.

With a `train:` block the system trains a LoRA of a local base model on the suite's train split
(prompt = this system's own template, target = the reference in the suite's answer format) the
first time it is set up, caches it, and serves base + LoRA through the local provider.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from adapters.generation import BASE_VARIABLES, LLMSystemConfig, base_variables, build_messages, check_template, generate
from harness.finetune.config import TrainConfig, base_spec, check_train_size, check_trainer_installed
from harness.finetune.data import TrainingRecord, has_target, target_text
from harness.systems import Artifacts, System, SystemContext, system_kind
from harness.types import Example, Response, RetrievedChunk

# SystemContext.extras keys: a fake trainer for tests, and the run's --no-progress
TRAINER_EXTRA = "finetune_trainer"
PROGRESS_EXTRA = "progress"


class FinetunedConfig(LLMSystemConfig):
    kind: Literal["finetuned"]
    model: str | None = Field(  # type: ignore[assignment]
        None,
        description="The fine-tuned model to call (e.g. openai/ft:gpt-4o-mini:org::id); with `train:`, "
        "the base model to train and serve (train.base_model wins when both are given).",
    )
    train: TrainConfig | None = Field(None, description="Train a LoRA from the train split (local base models).")

    @model_validator(mode="after")
    def _served_model(self) -> "FinetunedConfig":
        if self.train is None:
            if not self.model:
                raise ValueError("give `model` (an existing fine-tuned model) or a `train:` block")
            return self
        base = self.train.base_model or self.model
        if not base:
            raise ValueError("train: needs base_model (or the system's model)")
        self.model = base  # a LoRA runs on its own base, whatever defaults.model says
        self.train.base_model = base
        return self


@dataclass
class Prompted:
    """What a system sends for one example (and what it retrieved to build it, if anything)."""

    messages: list[dict[str, str]]
    chunks: list[RetrievedChunk] | None = None
    retrieval_s: float | None = None


class FinetunedSystem(System):
    variables = BASE_VARIABLES

    def __init__(self, config: FinetunedConfig, context: SystemContext):
        check_template(config, context, self.variables)
        self.config = config
        self.context = context
        self.examples = [e for e in context.train if has_target(e)]
        self.lora: Any = None
        self.base = None
        self._serving = config
        self._lock = asyncio.Lock()
        if config.train is not None:
            self.base = base_spec(config.model or "", where=context.where("train", "base_model"))
            check_train_size(len(self.examples), len(context.train), where=context.where("train"))
            check_trainer_installed(where=context.where("train"))

    async def prompt_for(self, example: Example) -> Prompted:
        """The messages sent at eval time; training renders train examples through this same method."""
        return Prompted(build_messages(self.config, base_variables(example, self.context)))

    async def training_records(self) -> list[TrainingRecord]:
        json_answers = self.context.suite.answer_format is not None
        records = []
        for example in self.examples:
            prompted = await self.prompt_for(example)
            records.append(TrainingRecord(example.id, prompted.messages, target_text(example, json_answers=json_answers)))
        return records

    async def setup(self, *, force: bool = False) -> None:
        """Find the cached LoRA or train it (once; the runner awaits this before the first sample)."""
        if self.config.train is None:
            return
        async with self._lock:
            if self.lora is not None and not force:
                return
            from harness.finetune.isolated import run_isolated
            from harness.finetune.store import LoraStore, lora_key, ensure_lora

            records = await self.training_records()
            extras = self.context.extras
            trainer = extras.get(TRAINER_EXTRA)
            found = None if force else LoraStore(self.context.cache_dir).find(lora_key(records, self.config.train, self.base))
            arguments = (records, self.config.train, self.base, self.context.cache_dir)
            options = {
                "prompt": self.config.prompt.model_dump(),
                "force": force,
                "progress": extras.get(PROGRESS_EXTRA, True),
                "built_for": {"suite": self.context.suite.name, "system": self.context.name},
            }
            if found is not None:
                self.lora = found
            elif trainer is not None:  # a test's stand-in trainer runs in this process
                self.lora = await asyncio.to_thread(ensure_lora, *arguments, trainer=trainer, **options)
            else:
                self.lora = await run_isolated(ensure_lora, *arguments, **options)
            params = self.config.params
            extra = {**params.extra, "lora_path": str(self.lora.path)}
            self._serving = self.config.model_copy(update={"params": params.model_copy(update={"extra": extra})})

    def artifacts(self) -> Artifacts | None:
        """The LoRA's key joins the recorded config (a hash of data, config and base model: part
        of what ran); its files are local paths."""
        if self.lora is None:
            return None
        return Artifacts(recorded={"lora_key": self.lora.key},
                         files={"lora": str(self.lora.path), "lineage": str(self.lora.lineage_path)})

    async def respond(self, example: Example) -> Response:
        if self.config.train is not None and self.lora is None:
            await self.setup()  # used without the runner (Python API)
        prompted = await self.prompt_for(example)
        response = await generate(self._serving, self.context, prompted.messages)
        if prompted.chunks is not None:
            generation_s = response.timings.generation_s or 0.0
            response.retrieved = prompted.chunks
            response.timings.retrieval_s = prompted.retrieval_s
            response.timings.total_s = (prompted.retrieval_s or 0.0) + generation_s
        if self.lora is not None:
            response.metadata["lora"] = {"key": self.lora.key, "path": str(self.lora.path)}
        return response


system_kind("finetuned", FinetunedConfig)(FinetunedSystem)
