"""Did the system decline when it should have, and only then?

- `declined_unanswerable`: on unanswerable examples, 1 when the system declined (higher is better).
- `declined_answerable`: on answerable examples, 1 when it declined anyway (lower is better).

With `name: strict` they are `strict_unanswerable` and `strict_answerable` (the default name is
`declined`), so one suite can hold two variants. Each is `undefined` where it does not apply,
and on examples whose answerability is not known.
An example is unanswerable when it says so (`answerable: false`, or the `unanswerable` tag) or,
with `empty_reference_unanswerable`, when its reference is an empty string (how public datasets
such as SQuAD 2.0 store them); it is answerable when marked so or when it has a reference.

A decline is detected, in this order, from: a flag the system set itself (`metadata["declined"]`:
the rag system's `min_score` "no relevant context" path, a custom system's `declined` field or
null answer), a JSON field that is null (`{"answer": null}`), an empty answer, or a refusal phrase
in the answer. Each score's reason says which one fired.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.metrics.base import Metric, MetricConfig, MetricContext, metric_type
from harness.metrics.extract import answer_text, get_path, parse_json
from harness.types import UNANSWERABLE_TAG, Example, MetricInfo, Response, Score

DEFAULT_PHRASES = [
    "i don't know",
    "i do not know",
    "i'm not sure",
    "i am not sure",
    "cannot answer",
    "can't answer",
    "unable to answer",
    "cannot be answered",
    "can't be answered",
    "not enough information",
    "insufficient information",
    "no relevant information",
    "no relevant context",
    "not mentioned in the context",
    "not provided in the context",
    "the context does not",
    "the context doesn't",
    "unanswerable",
]
FLAG_GLOSS = {"no_relevant_context": "the rag system found no context above min_score"}
_SPACE = re.compile(r"\s+")


def normalise_phrase(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: so "I don’t  know" matches "i don't know"."""
    return _SPACE.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'").lower()).strip()


class AbstentionConfig(MetricConfig):
    type: Literal["abstention"]
    name: str = Field("declined", description="Scores are <name>_unanswerable and <name>_answerable.")
    phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PHRASES),
        description="Refusal phrases: an answer containing one (any case) is a decline. [] turns this off.",
    )
    json_field: str | None = Field(
        None, description="Field of a JSON answer whose null value means the system declined, e.g. answer."
    )
    system_flag: bool = Field(
        True,
        description="Count declines the system reports itself (rag's min_score no-context path, a custom "
        "system's `declined` field or null answer).",
    )
    empty_answer: bool = Field(True, description="An empty answer (after whitespace) is a decline.")
    empty_reference_unanswerable: bool = Field(
        False, description="An example whose reference is an empty string is unanswerable (SQuAD 2.0 style data)."
    )

    @field_validator("phrases")
    @classmethod
    def _non_empty(cls, phrases: list[str]) -> list[str]:
        cleaned = [normalise_phrase(p) for p in phrases]
        if any(not p for p in cleaned):
            raise ValueError("phrases must not be empty strings")
        return cleaned

    @model_validator(mode="after")
    def _some_detection(self) -> "AbstentionConfig":
        if not (self.phrases or self.json_field or self.system_flag or self.empty_answer):
            raise ValueError("every way to detect a decline is off: set phrases, json_field, system_flag or empty_answer")
        return self


class Abstention(Metric):
    group = "abstention"
    bounded = True  # never waits; linear in the output

    def __init__(self, config: AbstentionConfig, context: MetricContext | None = None):
        self.config = config
        self.unanswerable, self.answerable = f"{config.name}_unanswerable", f"{config.name}_answerable"
        self.names = [self.unanswerable, self.answerable]

    def info(self, name: str) -> MetricInfo:
        return MetricInfo(higher_is_better=name == self.unanswerable, group="abstention")

    async def score(self, example: Example, response: Response) -> list[Score]:
        answerable, why = self.answerability(example)
        if answerable is None:
            return [Score.undefined(n, why) for n in self.names]
        declined, how = self.declined(response)
        applies = self.answerable if answerable else self.unanswerable
        verdict = f"declined: {how}" if declined else f"answered: {how}"
        scores = {
            applies: Score(name=applies, value=float(declined), reason=verdict, detail={"declined": declined, "example": why})
        }
        for name in self.names:
            scores.setdefault(name, Score.undefined(name, f"example is {'answerable' if answerable else 'unanswerable'} ({why})"))
        return [scores[name] for name in self.names]

    def answerability(self, example: Example) -> tuple[bool | None, str]:
        """(True/False, how we know) or (None, why it is not known)."""
        if example.answerable is not None:
            return example.answerable, f"answerable: {str(example.answerable).lower()}"
        if UNANSWERABLE_TAG in example.tags:
            return False, f"tagged {UNANSWERABLE_TAG!r}"
        reference = example.reference
        if reference is not None and not reference.strip():
            if self.config.empty_reference_unanswerable:
                return False, "empty reference"
            return None, (
                "example has an empty reference and is not marked answerable or unanswerable "
                "(set empty_reference_unanswerable: true, map dataset.fields.answerable, or tag it 'unanswerable')"
            )
        if reference is not None or example.reference_json is not None:
            return True, "has a reference answer"
        return None, "example has no reference and is not marked answerable or unanswerable"

    def declined(self, response: Response) -> tuple[bool, str]:
        """(declined?, how it was detected, or what was checked when it was not)."""
        checked = []
        flag = response.metadata.get("declined")
        if self.config.system_flag:
            if flag:
                gloss = FLAG_GLOSS.get(str(flag))
                return True, f"system flag {flag!r}" + (f" ({gloss})" if gloss else "")
            checked.append("no system flag")
        field = self.config.json_field
        if field:
            parsed = response.parsed if response.parsed is not None else parse_json(response.text)[0]
            if _holds_null(parsed, field):
                return True, f"JSON field {field!r} is null"
            checked.append(f"JSON field {field!r} not null")
        text, source = answer_text(response, field)
        if self.config.empty_answer:
            if not text.strip():
                return True, "empty answer" + (f" ({source})" if source != "raw" else "")
            checked.append("answer not empty")
        if self.config.phrases:
            normalised = normalise_phrase(text)
            found = next((p for p in self.config.phrases if p in normalised), None)
            if found is not None:
                return True, f"refusal phrase {found!r}"
            checked.append("no refusal phrase")
        return False, ", ".join(checked)


def _holds_null(parsed: Any, path: str) -> bool:
    """The JSON answer has `path` and it is null (a missing field is a format problem, not a decline)."""
    *parents, last = path.split(".")
    container = get_path(parsed, ".".join(parents)) if parents else parsed
    return isinstance(container, dict) and last in container and container[last] is None


metric_type("abstention", AbstentionConfig)(Abstention)
