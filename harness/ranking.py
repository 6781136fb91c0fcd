"""A ranking as a retrieval tool reports it, turned into the rank order the metrics score.

Systems the harness does not run itself (replay files, custom functions and endpoints) hand over
either a list of document ids, best first, or a list of `{id, score}` objects. With scores the
order is the scores' order, as trec_eval reads a run: score descending, ties broken by document
id descending (trec_eval's `comp_sim_docno`), whatever order the list was stored in. What had to
be fixed on the way (a re-sort, an order the scores contradict, a document listed twice) is
counted, recorded on the response and summed per system into warnings.
"""

from __future__ import annotations

import logging
import math
from itertools import pairwise
from dataclasses import dataclass
from typing import Any

from harness.types import RetrievedChunk

log = logging.getLogger("harness.ranking")

ID_KEYS = ("id", "doc_id")


@dataclass(frozen=True)
class Entry:
    doc_id: str
    score: float | None
    text: str


@dataclass
class Ranking:
    """Documents in rank order (one entry per document) and what it took to get there."""

    entries: list[Entry]
    by_score: bool
    resorted: bool = False
    contradictions: int = 0
    duplicates: int = 0

    def chunks(self) -> list[RetrievedChunk]:
        return [
            RetrievedChunk(chunk_id=e.doc_id, doc_id=e.doc_id, text=e.text, score=e.score, rank=n)
            for n, e in enumerate(self.entries, 1)
        ]

    def record(self) -> dict[str, Any]:
        """What goes into `response.metadata["ranking"]`."""
        return {
            "order": "score" if self.by_score else "list",
            "resorted": self.resorted,
            "contradictions": self.contradictions,
            "duplicates": self.duplicates,
        }


def parse_ranking(value: Any, contexts: list[Any] | None = None) -> Ranking:
    """A list of ids (best first) or of `{id | doc_id, score, text}` objects -> a Ranking.

    `contexts` are passage texts that go with the list's entries by position (before any
    re-sort). Raises ValueError with what is wrong; callers add where.
    """
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ValueError(f"retrieved documents must be a list, got {type(value).__name__}")
    contexts = contexts or []
    entries = [_entry(item, n, contexts[n] if n < len(contexts) else None) for n, item in enumerate(value)]
    scored = [e.score is not None for e in entries]
    if any(scored) and not all(scored):
        missing = scored.index(False)
        raise ValueError(f"entry {missing} has no score while others do: give every entry a score or none")
    by_score = bool(entries) and all(scored)
    ranking = Ranking(entries=entries, by_score=by_score)
    if by_score:
        ranking.contradictions = sum(1 for a, b in pairwise(entries) if a.score < b.score)  # type: ignore[operator]
        ordered = sorted(entries, key=lambda e: e.doc_id, reverse=True)  # ties: id descending
        ordered.sort(key=lambda e: e.score, reverse=True)  # type: ignore[arg-type,return-value]  # stable
        ranking.resorted = ordered != entries
        entries = ordered
    seen: dict[str, Entry] = {}
    for entry in entries:
        seen.setdefault(entry.doc_id, entry)  # first occurrence: the best rank
    ranking.entries = list(seen.values())
    ranking.duplicates = len(entries) - len(seen)
    return ranking


def _entry(item: Any, position: int, context: Any) -> Entry:
    text = "" if context is None else str(context)
    if isinstance(item, dict):
        key = next((k for k in ID_KEYS if item.get(k) not in (None, "")), None)
        if key is None:
            raise ValueError(f"entry {position} has no 'id' or 'doc_id': {_short(item)}")
        score = item.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score)):
            raise ValueError(f"entry {position} ({item[key]!r}) has score {score!r}; expected a finite number")
        if isinstance(item.get("text"), str):
            text = item["text"]
        return Entry(doc_id=str(item[key]), score=None if score is None else float(score), text=text)
    if isinstance(item, (str, int)) and not isinstance(item, bool) and str(item) != "":
        return Entry(doc_id=str(item), score=None, text=text)
    raise ValueError(f"entry {position} is {_short(item)}; expected a document id or an object with 'id' and 'score'")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class RankingTally:
    """Per-system counts of what parse_ranking fixed, rendered as run warnings.

    A system that ranks while the run goes (custom) sets `log_first`: the first problem of each
    kind is logged when it happens, since the plan's warnings were collected before the run.
    """

    where: str
    log_first: bool = False
    rankings: int = 0
    resorted: int = 0
    contradicted: int = 0
    contradictions: int = 0
    duplicated: int = 0
    duplicates: int = 0

    def add(self, ranking: Ranking) -> None:
        if self.log_first and ranking.contradictions and not self.contradicted:
            log.warning("%s: a ranking's order contradicts its scores; ranked by score, as trec_eval does", self.where)
        if self.log_first and ranking.duplicates and not self.duplicated:
            log.warning("%s: a ranking lists a document more than once; counted once, at its best rank", self.where)
        self.rankings += 1
        self.resorted += ranking.resorted
        self.contradicted += ranking.contradictions > 0
        self.contradictions += ranking.contradictions
        self.duplicated += ranking.duplicates > 0
        self.duplicates += ranking.duplicates

    def warnings(self) -> list[str]:
        found = []
        if self.contradicted:
            found.append(
                f"{self.where}: {self.contradicted} of {self.rankings} rankings list documents in an order their "
                f"scores contradict ({self.contradictions} adjacent pair(s) with a higher score listed later); "
                "ranked by score, as trec_eval does"
            )
        if self.duplicated:
            found.append(
                f"{self.where}: {self.duplicated} of {self.rankings} rankings list a document more than once "
                f"({self.duplicates} repeat(s)); each document counted once, at its best rank"
            )
        return found
