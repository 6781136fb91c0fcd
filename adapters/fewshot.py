"""`kind: few_shot` - k worked examples from the train split in front of the question.

Selection is `fixed` (the first k, or the ids listed), `random` (seeded, per example) or
`similar` (the k train inputs nearest to the question by embedding).
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from adapters.generation import (
    BASE_VARIABLES,
    LLMSystemConfig,
    base_variables,
    build_messages,
    check_template,
    generate,
    render,
    template_problems,
    template_variables,
)
from harness.errors import ConfigError
from harness.systems import System, SystemContext, system_kind
from harness.types import Example, Response

if TYPE_CHECKING:
    import numpy as np


class FewShotConfig(LLMSystemConfig):
    kind: Literal["few_shot"]
    k: int = Field(3, gt=0)
    selection: Literal["fixed", "random", "similar"] = "fixed"
    example_ids: list[str] | None = Field(None, description="For fixed selection: these train ids, in order.")
    seed: int = 0
    embedding_model: str = "local/all-minilm-l6-v2"
    shot_template: str = "Question: {{input}}\nAnswer: {{answer}}"
    shot_separator: str = "\n\n"
    shot_answer: Literal["auto", "reference", "reference_json"] = Field(
        "auto", description="auto: the reference JSON when the suite has an answer format, else the text."
    )


class FewShotSystem(System):
    def __init__(self, config: FewShotConfig, context: SystemContext):
        check_template(config, context, BASE_VARIABLES | {"examples"})
        if problems := template_problems(
            config.shot_template, {"input", "answer"}, context.where("shot_template"), context.train, split="train"
        ):
            raise ConfigError("bad shot template", problems=problems)
        if "examples" not in template_variables(config.prompt.template) | template_variables(config.prompt.system or ""):
            config = config.model_copy(
                update={"prompt": config.prompt.model_copy(update={"template": "{{examples}}\n\n" + config.prompt.template})}
            )
        self.config = config
        self.context = context
        self.pool = [e for e in context.train if e.reference is not None or e.reference_json is not None]
        if len(self.pool) < config.k:
            raise ConfigError(
                f"{context.where('k')}: needs {config.k} train examples with a reference, "
                f"the dataset has {len(self.pool)}"
            )
        self.fixed = self._fixed_shots() if config.selection == "fixed" else None
        self._matrix: np.ndarray | None = None
        self._lock = asyncio.Lock()

    def _fixed_shots(self) -> list[Example]:
        if not self.config.example_ids:
            return self.pool[: self.config.k]
        by_id = {e.id: e for e in self.pool}
        missing = [i for i in self.config.example_ids if i not in by_id]
        if missing:
            raise ConfigError(f"{self.context.where('example_ids')}: not in the train split: {', '.join(missing)}")
        return [by_id[i] for i in self.config.example_ids]

    async def select(self, example: Example) -> list[Example]:
        if self.fixed is not None:
            return self.fixed
        if self.config.selection == "random":
            rng = random.Random(f"{self.config.seed}:{example.id}")
            return rng.sample(self.pool, self.config.k)
        return await self._similar(example)

    async def _similar(self, example: Example) -> list[Example]:
        import numpy as np
        gateway = self.context.gateway
        async with self._lock:
            if self._matrix is None:
                self._matrix = await gateway.embed(self.config.embedding_model, [e.input for e in self.pool])
        query = await gateway.embed(self.config.embedding_model, [example.input])
        sims = self._matrix @ query[0]
        order = np.argsort(-sims, kind="stable")
        return [self.pool[i] for i in order[: self.config.k]]

    def shot_answer(self, shot: Example) -> str:
        mode = self.config.shot_answer
        if mode == "auto":
            mode = "reference_json" if self.context.suite.answer_format and shot.reference_json is not None else "reference"
        if mode == "reference_json" and shot.reference_json is not None:
            return json.dumps(shot.reference_json, ensure_ascii=False)
        return shot.reference or ""

    async def respond(self, example: Example) -> Response:
        shots = await self.select(example)
        rendered = self.config.shot_separator.join(
            render(self.config.shot_template, {"input": s.input, "answer": self.shot_answer(s), "metadata": s.metadata})
            for s in shots
        )
        variables = base_variables(example, self.context) | {"examples": rendered}
        response = await generate(self.config, self.context, build_messages(self.config, variables))
        response.metadata["shot_ids"] = [s.id for s in shots]
        return response


system_kind("few_shot", FewShotConfig)(FewShotSystem)
