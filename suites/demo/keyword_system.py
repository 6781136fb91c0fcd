"""The demo's `kind: custom` system: a non-LLM baseline a team might already have.

It answers with the corpus sentence that shares the most words with the question, and cites
that sentence's document. Any `module:function` taking an Example can stand in its place.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
WORD = re.compile(r"[a-z0-9$]+")
STOP = set("a an the of in on at to for is are was were what which who when where how does do did by with and or from its it".split())


def words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


@lru_cache(maxsize=1)
def sentences() -> list[tuple[str, str, set[str]]]:
    rows = []
    for path in sorted(CORPUS.glob("*.md")):
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", path.read_text(encoding="utf-8")):
            sentence = sentence.strip("# ").strip()
            if sentence:
                rows.append((path.name, sentence, words(sentence)))
    return rows


def answer(example) -> str:
    query = words(example.input)
    doc, best, overlap = "", "unknown", 0
    for name, sentence, vocab in sentences():
        shared = len(query & vocab)
        if shared > overlap:
            doc, best, overlap = name, sentence, shared
    return json.dumps({"answer": best, "sources": [doc] if doc else []})
