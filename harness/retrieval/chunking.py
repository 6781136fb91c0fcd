"""Cutting documents into chunks that point back into the document text.

Every chunk is a span: `chunk.text == document.text[chunk.start:chunk.end]`, so a hit can be shown
in its source and mapped to its document for document-level retrieval metrics.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable

from harness.retrieval.config import ChunkingConfig
from harness.retrieval.corpus import Document

Span = tuple[int, int]

_WORD = re.compile(r"\S+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str | None = None
    heading: str | None = None


def chunk_corpus(documents: Iterable[Document], config: ChunkingConfig) -> list[Chunk]:
    return [chunk for doc in documents for chunk in chunk_document(doc, config)]


def chunk_document(doc: Document, config: ChunkingConfig) -> list[Chunk]:
    """Chunks `<doc_id>#0`, `<doc_id>#1`, ... in document order."""
    text = doc.text
    whole = _strip(text, 0, len(text))
    if whole is None:
        return []
    if config.strategy == "fixed":
        spans = _windows(text, whole, config.size, config.overlap)
    elif config.strategy == "heading":
        spans = [s for section in _sections(text) for s in _fit(text, [section], config, _paragraphs)]
    else:
        units = _paragraphs(text, whole) if config.strategy == "paragraph" else _sentences(text, whole)
        spans = _fit(text, units, config, None)
    headings = _Headings(text)
    return [
        Chunk(f"{doc.id}#{n}", doc.id, text[start:end], start, end, doc.title, headings.at(start))
        for n, (start, end) in enumerate(spans)
    ]


def _strip(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding whitespace; None when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _words(text: str, span: Span) -> list[Span]:
    return [m.span() for m in _WORD.finditer(text, span[0], span[1])]


def _windows(text: str, span: Span, size: int, overlap: int) -> list[Span]:
    """Windows of `size` words, each starting `size - overlap` words after the previous."""
    words = _words(text, span)
    step = max(1, size - overlap)
    out = []
    for first in range(0, len(words), step):
        window = words[first : first + size]
        out.append((window[0][0], window[-1][1]))
        if first + size >= len(words):
            break
    return out


def _split(text: str, span: Span, separator: re.Pattern[str]) -> list[Span]:
    out, cursor = [], span[0]
    for match in separator.finditer(text, span[0], span[1]):
        if (piece := _strip(text, cursor, match.start())) is not None:
            out.append(piece)
        cursor = match.end()
    if (piece := _strip(text, cursor, span[1])) is not None:
        out.append(piece)
    return out


def _paragraphs(text: str, span: Span) -> list[Span]:
    return _split(text, span, _PARAGRAPH_BREAK)


def _sentences(text: str, span: Span) -> list[Span]:
    return [s for p in _paragraphs(text, span) for s in _split(text, p, _SENTENCE_END)]


def _sections(text: str) -> list[Span]:
    """One span per Markdown section; a heading with no body joins the section after it."""
    starts = [m.start() for m in _HEADING.finditer(text)]
    bounds = sorted({0, *starts}) + [len(text)]
    spans = [s for a, b in zip(bounds, bounds[1:]) if (s := _strip(text, a, b)) is not None]
    merged: list[Span] = []
    pending: int | None = None
    for start, end in spans:
        body = text[start:end]
        if _HEADING.fullmatch(body) and "\n" not in body:
            pending = start if pending is None else pending
            continue
        merged.append((pending if pending is not None else start, end))
        pending = None
    if pending is not None:
        merged.append((pending, spans[-1][1]))
    return merged


def _fit(text: str, units: list[Span], config: ChunkingConfig, splitter) -> list[Span]:
    """Pack consecutive units into chunks of at most `size` words; a unit that is too long is
    cut by `splitter` (then packed) or, as a last resort, into word windows."""
    size = config.size
    overlap = config.overlap if config.overlap < size else 0
    out: list[Span] = []
    current: Span | None = None
    current_words = 0
    for unit in units:
        count = len(_words(text, unit))
        if count > size:
            if current is not None:
                out.append(current)
                current, current_words = None, 0
            parts = splitter(text, unit) if splitter else [unit]
            if len(parts) > 1:
                out.extend(_fit(text, parts, config, None))
            else:
                out.extend(_windows(text, unit, size, overlap))
            continue
        if current is not None and current_words + count <= size:
            current, current_words = (current[0], unit[1]), current_words + count
        else:
            if current is not None:
                out.append(current)
            current, current_words = unit, count
    if current is not None:
        out.append(current)
    return out


class _Headings:
    """The Markdown heading trail (`Guide > Install`) in force at any offset of a document."""

    def __init__(self, text: str):
        self.offsets: list[int] = []
        self.trails: list[str] = []
        stack: list[tuple[int, str]] = []
        for match in _HEADING.finditer(text):
            level = len(match.group(1))
            stack = [(lvl, name) for lvl, name in stack if lvl < level] + [(level, match.group(2).strip())]
            self.offsets.append(match.start())
            self.trails.append(" > ".join(name for _, name in stack))

    def at(self, offset: int) -> str | None:
        index = bisect.bisect_right(self.offsets, offset) - 1
        return self.trails[index] if index >= 0 else None
