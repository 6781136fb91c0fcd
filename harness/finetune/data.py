"""Train examples -> (prompt, target) pairs, with the prompt built by the system's own code.

A fine-tuned model only helps if it is trained on exactly what it will see at eval time, so
systems hand over the chat messages they would send (`build_messages`) and the local trainer
turns them into text with the same `render_prompt` the local provider uses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from harness.types import Example


@dataclass(frozen=True)
class TrainingRecord:
    """One training pair: the chat messages the system sends, and the answer it should give."""

    id: str
    messages: list[dict[str, str]]
    target: str

    def prompt_text(self) -> str:
        """The exact text the local provider feeds llama.cpp for these messages."""
        from harness.local.completion_prompt import render_prompt

        return render_prompt(self.messages)

    def completion_text(self) -> str:
        """The target as the model continues the prompt: after "Answer:" on the same line."""
        from harness.local.completion_prompt import ends_with_answer_cue

        prompt = self.prompt_text()
        if ends_with_answer_cue(prompt):
            return " " + self.target
        return self.target if prompt.endswith(("\n", " ")) or not prompt else "\n" + self.target

    def chat_row(self) -> dict[str, Any]:
        """One line of OpenAI chat fine-tuning JSONL."""
        return {"messages": [*self.messages, {"role": "assistant", "content": self.target}]}


def has_target(example: Example) -> bool:
    return example.reference_json is not None or bool(example.reference and example.reference.strip())


def target_text(example: Example, *, json_answers: bool) -> str:
    """The reference as the suite wants answers: compact JSON with an answer format, else the text."""
    if json_answers and example.reference_json is not None:
        return json.dumps(example.reference_json, ensure_ascii=False, separators=(",", ":"))
    if example.reference is not None:
        return example.reference.strip()
    return json.dumps(example.reference_json, ensure_ascii=False, separators=(",", ":"))


def data_hash(records: list[TrainingRecord]) -> str:
    """Hash of what the model learns from (messages and targets, in order); ids do not matter."""
    blob = json.dumps([[r.messages, r.target] for r in records], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()
