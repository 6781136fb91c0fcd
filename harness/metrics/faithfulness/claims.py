"""Text pieces for the offline judge offline-v2: headers, claims, verdicts and number matching.

Built on text.py's tokeniser (words, numbers, names), which stays as it was for offline-v1.
What v2 adds:
- context headers and ids (`[4] source: returns.md`, `Source: x.pdf`, `doc_id: 12`) are not
  text: they are removed from contexts and answers before anything is compared;
- a claim is a sentence (or a part between semicolons): cutting at every comma and "and" leaves
  fragments that match nothing;
- short answers ("90 days", "Ganymede") are claims about the question, so the question travels
  with them;
- verdicts ("SUPPORTS", "REFUTES", "Yes.", "No, ...") are recognised with the hypothesis they
  judge (a "Claim: ..." in the question, or the yes/no question itself);
- numbers match when equal or equal after rounding (8,849 for 8,848.86).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.metrics.faithfulness.text import Unit, analyse, split_sentences

HEADER_LINE = re.compile(
    r"^\s*(?:\[\s*\d+\s*\]\s*(?:(?:source|doc(?:ument)?(?:[ _]?id)?|title|file|chunk(?:[ _]?id)?|url)\s*[:=].*)?"
    r"|(?:source|doc(?:ument)?[ _]?id|chunk[ _]?id|file(?:name)?|url)\s*[:=]\s*\S.*)\s*$",
    re.IGNORECASE,
)
LEADING_REF = re.compile(r"^\s*\[\s*\d+\s*\]\s*")
SHORT_ANSWER_WORDS = 6

VERDICTS = {
    "supports": "support", "supported": "support", "true": "support", "correct": "support", "yes": "support",
    "refutes": "refute", "refuted": "refute", "false": "refute", "incorrect": "refute", "no": "refute",
    "not enough info": "unknown", "not enough information": "unknown", "nei": "unknown",
    "cannot be determined": "unknown", "unknown": "unknown",
}  # fmt: skip
_VERDICT = re.compile(
    r"^\s*\**\s*(not enough info(?:rmation)?|cannot be determined|supports|supported|refutes|refuted|true|false"
    r"|correct|incorrect|yes|no|nei|unknown)\b\s*\**\s*[.:!,;\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)
_CLAIM_IN_QUESTION = re.compile(r"\bclaim\s*:\s*(.+?)(?:(?<=[.!?])\s+(?=[A-Z])|\n|$)", re.IGNORECASE | re.DOTALL)
_YES_NO_START = re.compile(
    r"^\s*(is|are|was|were|can|could|do|does|did|will|would|should|shall|has|have|had|may|must)\b", re.IGNORECASE
)
_WORDISH = re.compile(r"\w+")
_SEMICOLON = re.compile(r"\s*;\s+")


def strip_headers(text: str) -> str:
    """Drop header/id lines and a leading `[n]` reference; keep everything else as written."""
    lines = [line for line in (text or "").splitlines() if not HEADER_LINE.match(line)]
    return LEADING_REF.sub("", "\n".join(lines)).strip()


@dataclass
class Verdict:
    """A verdict answer: its kind (support / refute / unknown), what it judges, and the rest."""

    kind: str
    hypothesis: str
    rest: str


def find_verdict(question: str, answer: str) -> Verdict | None:
    """A verdict only counts when the question asks for one: a "Claim: ..." or a yes/no question."""
    match = _VERDICT.match(answer)
    if not match:
        return None
    word = " ".join(match.group(1).lower().split())
    kind = VERDICTS[word]
    claim = _CLAIM_IN_QUESTION.search(question or "")
    if claim:
        hypothesis = claim.group(1).strip()
    elif _YES_NO_START.match(question or "") and word in ("yes", "no"):
        hypothesis = (question or "").strip()
    else:
        return None
    return Verdict(kind=kind, hypothesis=hypothesis, rest=answer[match.end() :].strip())


def is_short(answer: str) -> bool:
    return len(_WORDISH.findall(answer)) <= SHORT_ANSWER_WORDS and len(split_sentences(answer)) <= 1


def answer_claims(question: str, answer: str) -> list[Unit]:
    """Claims of an answer. A short answer is one claim read together with its question."""
    answer = strip_headers(answer)
    if not answer:
        return []
    if is_short(answer):
        unit = analyse(f"{question.strip()} {answer}" if question else answer)
        own = analyse(answer, sentence_start=False)
        # the question gives the topic (for the embedding); the answer's own words, numbers and
        # names are what the contexts must contain
        unit.words, unit.numbers, unit.names = own.words, own.numbers, own.names
        unit.negated = own.negated
        return [unit] if (own.words or own.numbers) else []
    claims = []
    for sentence in split_sentences(answer):
        for piece in _SEMICOLON.split(sentence):
            unit = analyse(piece.strip(" ,.;:"))
            if unit.words or unit.numbers:
                claims.append(unit)
    return claims


def number_found(number: str, pool: set[str]) -> bool:
    """Equal, or the same value rounded (8849 ~ 8848.86, 24.66 ~ 24.66)."""
    if number in pool:
        return True
    try:
        value = float(number.replace(":", "."))
    except ValueError:
        return False
    for other in pool:
        try:
            candidate = float(other.replace(":", "."))
        except ValueError:
            continue
        if candidate and value and abs(value - candidate) / max(abs(value), abs(candidate)) <= 0.005:
            return True
    return False
