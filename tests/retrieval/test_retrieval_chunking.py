"""Chunks must map back to their documents exactly, whatever the strategy."""

from __future__ import annotations

import pytest

from harness.retrieval.chunking import chunk_document
from harness.retrieval.config import ChunkingConfig
from harness.retrieval.corpus import Document
from harness.retrieval.htmltext import html_to_text

MARKDOWN = """# Returns Policy

If a device is not right for you, you can send it back. Most people never need to.

## Return Window

You can return any device within 45 days of delivery for a full refund. The product must
include all parts and accessories.

## Opened Items

Unopened items are refunded in full. Opened items are refunded minus an 8% restocking fee!
Items damaged by misuse cannot be returned? Ask "support" first.

### Exceptions

Gift cards cannot be returned.
"""

STRATEGIES = [
    ChunkingConfig(strategy="fixed", size=12, overlap=4),
    ChunkingConfig(strategy="fixed", size=5, overlap=0),
    ChunkingConfig(strategy="paragraph", size=30),
    ChunkingConfig(strategy="paragraph", size=8, overlap=2),
    ChunkingConfig(strategy="heading", size=200),
    ChunkingConfig(strategy="heading", size=10, overlap=3),
    ChunkingConfig(strategy="sentence", size=15),
    ChunkingConfig(strategy="sentence", size=1),
]


@pytest.mark.parametrize("config", STRATEGIES, ids=lambda c: f"{c.strategy}-{c.size}-{c.overlap}")
@pytest.mark.parametrize("doc_id", ["returns-policy.md", "sub/dir/a b.md", "12345#0"])
def test_chunks_are_exact_spans_with_stable_ids(config, doc_id):
    doc = Document(doc_id, MARKDOWN, "Returns Policy")
    chunks = chunk_document(doc, config)
    assert chunks
    assert [c.id for c in chunks] == [f"{doc_id}#{n}" for n in range(len(chunks))]
    for chunk in chunks:
        assert chunk.doc_id == doc_id
        assert chunk.text == MARKDOWN[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        assert chunk.title == "Returns Policy"
    # every word of the document is in some chunk, and chunks come in document order
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(MARKDOWN) if not ch.isspace())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_fixed_windows_overlap_by_the_configured_words():
    text = " ".join(f"w{i}" for i in range(10))
    chunks = chunk_document(Document("d", text), ChunkingConfig(strategy="fixed", size=4, overlap=2))
    assert [c.text for c in chunks] == ["w0 w1 w2 w3", "w2 w3 w4 w5", "w4 w5 w6 w7", "w6 w7 w8 w9"]


def test_size_limits_hold_for_packing_strategies():
    for strategy in ("paragraph", "sentence", "heading"):
        chunks = chunk_document(Document("d", MARKDOWN), ChunkingConfig(strategy=strategy, size=9))
        assert max(len(c.text.split()) for c in chunks) <= 9, strategy


def test_heading_chunks_follow_sections_and_carry_the_heading_trail():
    chunks = chunk_document(Document("d", MARKDOWN), ChunkingConfig(strategy="heading", size=200))
    assert [c.heading for c in chunks] == [
        "Returns Policy",
        "Returns Policy > Return Window",
        "Returns Policy > Opened Items",
        "Returns Policy > Opened Items > Exceptions",
    ]
    assert chunks[1].text.startswith("## Return Window") and "45 days" in chunks[1].text
    assert "Gift cards" not in chunks[2].text


def test_heading_without_body_joins_the_next_section():
    text = "# Title\n\n## Part\n\nBody text here."
    chunks = chunk_document(Document("d", text), ChunkingConfig(strategy="heading"))
    assert [c.text for c in chunks] == [text]
    assert chunks[0].heading == "Title"


def test_sentences_split_on_end_punctuation():
    text = 'One thing. Two "things." Three? Four! 5 is a number.'
    chunks = chunk_document(Document("d", text), ChunkingConfig(strategy="sentence", size=1))
    assert [c.text for c in chunks] == ["One", "thing.", "Two", '"things."', "Three?", "Four!", "5", "is", "a", "number."]
    chunks = chunk_document(Document("d", text), ChunkingConfig(strategy="sentence", size=3))
    assert [c.text for c in chunks] == ["One thing.", 'Two "things." Three?', "Four!", "5 is a", "number."]


def test_paragraphs_pack_until_size():
    text = "a b c\n\nd e\n\nf g h i\n\n\n  j"
    chunks = chunk_document(Document("d", text), ChunkingConfig(strategy="paragraph", size=5))
    assert [c.text for c in chunks] == ["a b c\n\nd e", "f g h i\n\n\n  j"]


def test_empty_document_has_no_chunks():
    assert chunk_document(Document("d", "  \n\n "), ChunkingConfig()) == []


def test_html_becomes_text_with_markdown_headings():
    html = """<html><head><title>Shop &amp; Co</title><style>p {color: red}</style></head>
    <body><h1>Returns</h1><p>Send it back within <b>45</b> days.</p><script>x()</script>
    <h2>Labels</h2><ul><li>Free in the EU</li><li>Paid elsewhere</li></ul></body></html>"""
    text, title = html_to_text(html)
    assert title == "Shop & Co"
    assert text == "# Returns\n\nSend it back within 45 days.\n\n## Labels\n\nFree in the EU\nPaid elsewhere"
    chunks = chunk_document(Document("p.html", text, title), ChunkingConfig(strategy="heading"))
    assert [c.heading for c in chunks] == ["Returns", "Returns > Labels"]
