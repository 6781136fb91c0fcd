"""`kind: hybrid` - a fine-tuned model with the same retrieval as RAG.

Config = the finetuned fields (`model` or `train:`) + RAG's `retrieval:` (a named suite block,
inline, or `{use: block, ...}`) and `corpus:`. Retrieval is RAG's own `RetrievalStage`, and the
LoRA is trained on prompts that carry the context retrieved for each train question, built by
the same method that builds eval prompts, so training and eval prompts cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from adapters.finetuned import FinetunedConfig, FinetunedSystem, Prompted
from adapters.generation import base_variables, build_messages
from adapters.rag import (
    CONTEXT_VARIABLES,
    ContextPrompt,
    RetrievalStage,
    UsesRetrieval,
    UsesRetrievalStage,
    format_context,
    missing_context_warning,
    with_context_placeholder,
)
from harness.systems import Artifacts, SystemContext, system_kind
from harness.types import Example


class HybridConfig(FinetunedConfig, UsesRetrieval):
    kind: Literal["hybrid"]  # type: ignore[assignment]
    prompt: ContextPrompt = Field(default_factory=ContextPrompt)


class HybridSystem(UsesRetrievalStage, FinetunedSystem):
    variables = CONTEXT_VARIABLES

    def __init__(self, config: HybridConfig, context: SystemContext):
        self.stage = RetrievalStage(config, context, who="a hybrid system")
        super().__init__(config, context)
        self.config = with_context_placeholder(config)
        self._serving = self.config
        self.warnings = missing_context_warning(config, context) + self.stage.warnings

    async def setup(self, *, force: bool = False) -> None:
        await self.stage.setup()
        await super().setup(force=force)

    def artifacts(self) -> Artifacts | None:
        lora, index = super().artifacts(), self.index_artifacts()
        if lora is None or index is None:
            return lora or index
        return Artifacts(recorded=lora.recorded, files={**lora.files, **index.files})

    async def prompt_for(self, example: Example) -> Prompted:
        chunks, retrieval_s = await self.stage.retrieve(example.input)
        variables = {**base_variables(example, self.context), "context": format_context(chunks)}
        return Prompted(build_messages(self.config, variables), chunks, retrieval_s)


system_kind("hybrid", HybridConfig)(HybridSystem)
