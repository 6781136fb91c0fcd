"""The per-example part of report.html, written while samples.jsonl is streamed.

Each example (its input, reference and every system's output, retrieved contexts and scores)
becomes one `<details>` block. Blocks are grouped `PAGE_SIZE` examples a page: report.html embeds
the first page and links the others (`report_pages/samples-0002.html`, ...), each a complete,
self-contained page with the report's styles and security policy. Every sample stays reachable
from report.html, while its size, and the memory used to write it, stay bounded.

Examples are shown in the order samples first mention them. A system's samples for one example
usually arrive close together; an example is put on its page once every system has answered it
(or the file ends), so only examples still waiting for a system are held in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.report.data import RunData

PAGE_SIZE = 100
PAGES_DIR = "report_pages"
PAGE_NAME = "samples-{:04d}.html"


@dataclass
class _Pending:
    example: dict[str, Any]
    blocks: dict[str, str] = field(default_factory=dict)  # system -> rendered block
    marks: dict[str, str] = field(default_factory=dict)  # system -> headline value


@dataclass
class SamplePages:
    """The first page's examples (HTML, embedded in report.html) and every page written after it."""

    first: str = ""
    n_examples: int = 0
    page_size: int = PAGE_SIZE
    files: list[tuple[Path, int, int]] = field(default_factory=list)  # path, first and last example (1-based)
    pages: dict[str, int] = field(default_factory=dict)  # example id -> its page (1: report.html)

    def href(self, example_id: str) -> str:
        """Where report.html links an example: its block below, or on the page that holds it."""
        from urllib.parse import quote

        anchor = "#ex-" + quote(example_id, safe="")
        page = self.pages.get(example_id, 1)
        return anchor if page == 1 else f"{PAGES_DIR}/{PAGE_NAME.format(page)}{anchor}"

    def section(self, base: str = "") -> str:
        """The Samples section of report.html: the first page, then links to the others."""
        from harness.report.html import esc

        if not self.n_examples:
            return "<p>No samples.</p>"
        shown = min(self.n_examples, self.page_size)
        if not self.files:
            return self.first
        links = " ".join(f'<a href="{esc(base + PAGES_DIR + "/" + path.name)}">{a}–{b}</a>' for path, a, b in self.files)
        note = (f"<p>{self.n_examples} examples: 1–{shown} below, {self.page_size} a page. "
                f"The others: {links}</p>")
        return note + self.first + f'<p class="counts">More examples: {links}</p>'


class PageWriter:
    """Renders samples into example blocks and pages; `add` one row at a time, then `close`."""

    def __init__(self, data: RunData, folder: Path | None, page_size: int | None = None):
        self.data = data
        self.folder = folder  # None: every example on the first page (nothing written)
        self.page_size = (page_size or PAGE_SIZE) if folder is not None else 0
        self.systems = data.systems
        self.kinds = data.kinds
        self.headline = data.headline() or ""
        self.pending: dict[str, _Pending] = {}  # example id -> blocks, in first-mention order
        self.page: list[str] = []
        self.full: list[str] | None = None  # a full page waiting to learn whether another follows
        self.written = 0  # pages done (the first one is kept in memory)
        self.result = SamplePages(page_size=self.page_size or PAGE_SIZE)
        if folder is not None:
            _remove_old_pages(folder)

    def add(self, row: dict[str, Any]) -> None:
        from harness.report.html import _system_block

        example = row["example"]
        entry = self.pending.get(example["id"])
        if entry is None:
            entry = self.pending[example["id"]] = _Pending(example)
        system = row["system"]
        entry.blocks[system] = _system_block(self.data, system, self.kinds.get(system, "?"), row)
        score = (row.get("scores") or {}).get(self.headline) or {}
        if score.get("status") == "ok" and score.get("value") is not None:
            entry.marks[system] = f"{system} {self.data.fmt(self.headline, score['value'])}"
        self._release(final=False)

    def close(self) -> SamplePages:
        self._release(final=True)
        if self.full is not None:
            self._write(self.full, last=True)
        if self.page:
            self._write(self.page, last=True)
        return self.result

    def _release(self, final: bool) -> None:
        """Put every leading example that all systems answered (all of them at the end) on a page."""
        while self.pending:
            example_id, entry = next(iter(self.pending.items()))
            if not final and len(entry.blocks) < len(self.systems):
                return
            del self.pending[example_id]
            self._place(example_id, self._render(entry))

    def _place(self, example_id: str, block: str) -> None:
        if self.full is not None:  # another example follows the full page
            self._write(self.full, last=False)
            self.full = None
        self.page.append(block)
        self.result.n_examples += 1
        if self.page_size:
            self.result.pages[example_id] = (self.result.n_examples - 1) // self.page_size + 1
        if self.page_size and len(self.page) == self.page_size:
            self.full, self.page = self.page, []

    def _write(self, blocks: list[str], *, last: bool) -> None:
        self.written += 1
        number = self.written
        if number == 1:
            self.result.first = "".join(blocks)
            return
        assert self.folder is not None
        first = (number - 1) * self.page_size + 1
        path = self.folder / PAGES_DIR / PAGE_NAME.format(number)
        _write_page(path, self.data, number, first, first + len(blocks) - 1, "".join(blocks), last=last)
        self.result.files.append((path, first, first + len(blocks) - 1))

    def _render(self, entry: _Pending) -> str:
        from harness.report.html import MAX_OUTPUT_CHARS, _clip, esc

        example = entry.example
        marks = [entry.marks[s] for s in self.systems if s in entry.marks]
        short = _clip(example.get("input"), 120).split("\n")[0]
        summary = (f"<summary><b>{esc(example['id'])}</b> {esc(short)} "
                   f'<span class="counts">{esc(" · ".join(marks))}</span></summary>')
        body = [f"<p><b>Input</b></p><pre>{esc(_clip(example.get('input'), MAX_OUTPUT_CHARS))}</pre>"]
        if example.get("reference") is not None:
            body.append(f"<p><b>Reference</b></p><pre>{esc(example['reference'])}</pre>")
        facts = [("tags", ", ".join(map(str, example.get("tags") or []))),
                 ("reference doc ids", ", ".join(map(str, example.get("reference_doc_ids") or [])))]
        body += [f'<p class="counts">{esc(k)}: {esc(v)}</p>' for k, v in facts if v]
        body += [entry.blocks[s] for s in self.systems if s in entry.blocks]
        body += [block for s, block in entry.blocks.items() if s not in self.systems]
        return f'<details id="ex-{esc(example["id"])}">{summary}{"".join(body)}</details>'


def write_sample_pages(data: RunData, rows: Iterable[dict[str, Any]], folder: Path | None) -> SamplePages:
    """Stream `rows` into example blocks: the first page in memory, the others as files under
    `folder`/report_pages (every example on the first page when `folder` is None)."""
    writer = PageWriter(data, folder)
    for row in rows:
        writer.add(row)
    return writer.close()


def _write_page(path: Path, data: RunData, number: int, first: int, last_example: int, blocks: str, *, last: bool) -> None:
    from harness.report.html import CSP, CSS, esc

    title = f"{data.header.suite.name}: examples {first}–{last_example}"
    previous = "../report.html" if number == 2 else PAGE_NAME.format(number - 1)
    nav = ['<a href="../report.html">report</a>', f'<a href="{previous}">← previous</a>']
    if not last:
        nav.append(f'<a href="{PAGE_NAME.format(number + 1)}">next →</a>')
    text = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><nav>{''.join(nav)}</nav>{blocks}<nav>{''.join(nav)}</nav></body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def _remove_old_pages(folder: Path) -> None:
    """Pages of an earlier report of this run (it may have had more): rebuilt from scratch."""
    pages = folder / PAGES_DIR
    if pages.is_dir():
        for old in pages.glob("samples-*.html"):
            old.unlink()
