"""Train/test leakage: test questions that also appear (after normalisation) in the train split.

A fine-tuned or few-shot system that saw the test question with its answer during training is
not being evaluated, it is remembering. The run reports such pairs before it starts, can leave
those test examples out, and counts them in run.json.

Normalisation: Unicode NFKC, lowercase, punctuation removed (ASCII and Unicode), whitespace
collapsed, so "What is X?" and "what  is x" match; paraphrases are out of scope.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from harness.data.example_list import ExampleList
from harness.types import Example

_PUNCTUATION = {ord(c): None for c in string.punctuation}


def canonical_question(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = "".join(c for c in text.translate(_PUNCTUATION) if not unicodedata.category(c).startswith("P"))
    return " ".join(text.split())


def find_leaks(test: Iterable[Example], train: Iterable[Example]) -> list[tuple[str, str]]:
    """(test id, train id) for every test example whose normalised input equals a train input."""
    by_text: dict[str, list[str]] = {}
    for example in train:
        by_text.setdefault(canonical_question(example.input), []).append(example.id)
    return [(t.id, train_id) for t in test for train_id in by_text.get(canonical_question(t.input), [])]


@dataclass
class LeakageReport:
    """What the run reports and records: the pairs, and the test ids concerned."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    n_test: int = 0

    @property
    def test_ids(self) -> list[str]:
        return list(dict.fromkeys(t for t, _ in self.pairs))

    @property
    def count(self) -> int:
        return len(self.test_ids)

    def message(self, limit: int = 5) -> str | None:
        """A one-line warning, or None when nothing leaked."""
        if not self.pairs:
            return None
        shown = ", ".join(f"{t}={r}" for t, r in self.pairs[:limit])
        more = f" (and {len(self.pairs) - limit} more)" if len(self.pairs) > limit else ""
        return (
            f"{self.count} of {self.n_test} test examples also appear in the train split "
            f"(test=train: {shown}{more}); fine-tuned and few-shot scores on them are inflated"
        )

    def to_json(self) -> dict:
        """For run.json: {"count": n, "n_test": n, "pairs": [[test_id, train_id], ...]}."""
        return {"count": self.count, "n_test": self.n_test, "pairs": [list(p) for p in self.pairs]}

    def exclude(self, test: Sequence[Example]) -> ExampleList:
        """The test examples that did not leak (for `--exclude-leaked`)."""
        return (test if isinstance(test, ExampleList) else ExampleList(test)).without_ids(self.test_ids)


def check_leakage(test: Sequence[Example], train: Sequence[Example]) -> LeakageReport:
    return LeakageReport(find_leaks(test, train), len(test))
