"""`kind: prompt` - the base prompt: the question (and format instructions) sent to a model."""

from __future__ import annotations

from typing import Literal

from adapters.generation import BASE_VARIABLES, LLMSystemConfig, base_variables, build_messages, check_template, generate
from harness.systems import System, SystemContext, system_kind
from harness.types import Example, Response


class PromptSystemConfig(LLMSystemConfig):
    kind: Literal["prompt"]


class PromptSystem(System):
    def __init__(self, config: PromptSystemConfig, context: SystemContext):
        check_template(config, context, BASE_VARIABLES)
        self.config = config
        self.context = context

    async def respond(self, example: Example) -> Response:
        messages = build_messages(self.config, base_variables(example, self.context))
        return await generate(self.config, self.context, messages)


system_kind("prompt", PromptSystemConfig)(PromptSystem)
