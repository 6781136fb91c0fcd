"""Plain-text pieces for the offline judge: sentences, claims, content words, numbers, names.

Deterministic and dependency-free; every rule here is part of the judge's version (offline-v1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$€£])|\n\s*\n|\n\s*[-*\u2022]\s+|\n(?=[A-Z])")
# Clause boundaries: ; : and comma/conjunction joints. A claim is one clause of one sentence.
_CLAUSE_SPLIT = re.compile(
    r"\s*;\s*|,\s+(?:and|but|while|whereas|although|though|so|yet)\s+|\s+(?:and|but|whereas|while)\s+"
    r"|,\s+(?=which\b|who\b|where\b|as\b|like\b)|,\s+|\s+because\s+|\s+\(|\)\s*"
)
_WORD = re.compile(r"\$?\d+(?:[.,:]\d+)*%?|[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*")

NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot", "n't"})
QUANTIFIERS = frozenset({"all", "every", "any", "always", "only", "each", "both"})
NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000", "twice": "2",
    "single": "1", "double": "2", "once": "1", "half": "0.5", "dozen": "12",
}  # fmt: skip
STOPWORDS = frozenset(
    """a an the and or but if then than so as of at by for from in into on onto to with within over under up
    down out off about after before between through during above below again further once here there when where
    why how what which who whom whose this that these those is are was were be been being am do does did done
    doing have has had having can could will would shall should may might must i you he she it we they me him
    her us them my your his its our their mine yours ours theirs it's that's there's also just very too more
    most some such own same other another per via etc can't won't don't isn't aren't wasn't weren't
    s t now each few many much yes ok okay sure well""".split()
) - NEGATIONS - QUANTIFIERS
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ed", "es", "ly", "s", "e")


def stem(word: str) -> str:
    """A tiny suffix stripper, applied the same way to claims and contexts."""
    word = word.lower().removesuffix("'s").removesuffix("'")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            if suffix in ("ies", "ied"):
                return word[: -len(suffix)] + "y"
            return word[: -len(suffix)]
    return word


def normalise_number(token: str) -> str:
    """'1,200' -> '1200', '2.50' -> '2.5', '09:00' -> '9:00', '$29' -> '29', '20%' -> '20'."""
    token = token.strip("$%")
    if ":" in token:
        return ":".join(part.lstrip("0") or "0" for part in token.split(":"))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    token = token.replace(",", ".")
    if "." in token:
        token = token.rstrip("0").rstrip(".")
    return token.lstrip("0") or "0"


@dataclass
class Unit:
    """A claim or a piece of context, analysed once."""

    text: str
    words: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    negated: bool = False


def analyse(text: str, sentence_start: bool = True) -> Unit:
    words: set[str] = set()
    numbers: set[str] = set()
    names: set[str] = set()
    negated = False
    tokens = _WORD.findall(text)
    for position, token in enumerate(tokens):
        lower = token.lower()
        if "n't" in lower or lower in NEGATIONS:
            negated = True
        if _NUMBER_TOKEN.search(token):
            for piece in _NUMBER_TOKEN.findall(token):
                numbers.add(normalise_number(piece))
            continue
        for part in lower.split("-"):
            if part in NUMBER_WORDS:
                numbers.add(NUMBER_WORDS[part])
            elif part and part not in STOPWORDS and part not in NEGATIONS:
                words.add(stem(part))
        if token[0].isupper() and not (position == 0 and sentence_start) and lower not in STOPWORDS:
            names.add(stem(lower))
    return Unit(text=text, words=words, numbers=numbers, names=names, negated=negated)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and s.strip()]


def split_claims(text: str) -> list[Unit]:
    """Sentences cut at clause joints; pieces without a content word or number are dropped."""
    claims: list[Unit] = []
    for sentence in split_sentences(text):
        pieces = [p for p in _CLAUSE_SPLIT.split(sentence) if p and p.strip(" ,.;:")]
        for index, piece in enumerate(pieces):
            unit = analyse(piece.strip(" ,.;:"), sentence_start=index == 0)
            if unit.words or unit.numbers:
                claims.append(unit)
    return claims


def context_units(contexts: list[str], window: int = 2) -> list[Unit]:
    """Each sentence, each run of `window` adjacent sentences, and each whole context passage."""
    units: list[Unit] = []
    seen: set[str] = set()
    for passage in contexts:
        sentences = split_sentences(passage)
        spans = [[s] for s in sentences]
        spans += [sentences[i : i + window] for i in range(len(sentences) - window + 1)] if window > 1 else []
        spans.append(sentences)
        for span in spans:
            text = " ".join(span)
            if text and text not in seen:
                seen.add(text)
                unit = analyse(text)
                # a name opening a context sentence is still a name: count every capitalised word
                unit.names |= {stem(w) for s in span for w in _WORD.findall(s) if w[0].isupper()}
                units.append(unit)
    return units
