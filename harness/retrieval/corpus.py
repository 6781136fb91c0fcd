"""Reading a corpus (folder of Markdown/text/HTML, or JSONL) into documents with stable ids.

Ids are what retrieval metrics compare against the dataset's reference_doc_ids, so they must not
depend on where the corpus sits: a file's id is its path relative to the corpus folder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.errors import ConfigError
from harness.files.jsonl import JsonlError, iter_jsonl
from harness.retrieval.config import CorpusConfig
from harness.retrieval.htmltext import html_to_text
from harness.files.paths import resolve_in_folder
from harness.files.textfile import TextFileError, read_text

_KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class Corpus:
    """Documents in a stable order, looked up by id; `content_hash` changes when any document does."""

    def __init__(self, documents: list[Document], *, where: str = "corpus"):
        if not documents:
            raise ConfigError("the corpus is empty: no documents found", where=where)
        seen: dict[str, int] = {}
        duplicates = []
        for index, doc in enumerate(documents):
            if doc.id in seen:
                duplicates.append(f"duplicate document id {doc.id!r} (documents {seen[doc.id] + 1} and {index + 1})")
            seen.setdefault(doc.id, index)
        if duplicates:
            raise ConfigError("document ids must be unique", where=where, problems=duplicates)
        self.documents = documents
        self.by_id = {doc.id: doc for doc in documents}
        self._hash: str | None = None

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.by_id

    @property
    def content_hash(self) -> str:
        if self._hash is None:
            digest = hashlib.sha256()
            for doc in sorted(self.documents, key=lambda d: d.id):
                blob = json.dumps([doc.id, doc.title, doc.text, doc.metadata], sort_keys=True, ensure_ascii=False)
                digest.update(blob.encode())
                digest.update(b"\n")
            self._hash = digest.hexdigest()
        return self._hash

    def missing(self, doc_ids: Iterable[str]) -> list[str]:
        """The ids (sorted, unique) that name no document here."""
        return sorted({d for d in doc_ids if d not in self.by_id})


def load_corpus(config: CorpusConfig, base_dir: Path, *, where: str = "corpus") -> Corpus:
    """Read the corpus the config names; every unreadable file is reported together."""
    path = resolve_in_folder(base_dir, config.path, where=f"{where}.path")
    if not path.exists() and not path.is_symlink():  # a broken or looping link is named by the reader
        raise ConfigError(f"not found: {path}", where=f"{where}.path")
    fmt = config.format
    if fmt == "auto":
        fmt = "folder" if path.is_dir() else "jsonl"
    if fmt == "folder" and not path.is_dir():
        raise ConfigError(f"format is folder but {path} is a file", where=f"{where}.path")
    if fmt == "jsonl" and path.is_dir():
        raise ConfigError(f"format is jsonl but {path} is a folder", where=f"{where}.path")
    documents = read_folder(path, config.include, where) if fmt == "folder" else read_jsonl(path, where)
    return Corpus(documents, where=where)


def read_folder(folder: Path, include: list[str], where: str) -> list[Document]:
    """Files under `folder` matching `include`. Only files inside the folder are read: a symbolic
    link that leads out of it (to a system file, say) is refused, not indexed."""
    # broken links and special files (a FIFO) are listed too, so they are reported rather than
    # skipped in silence (a FIFO would hang the read: harness.files.textfile refuses it)
    files = sorted({p for pattern in include for p in folder.glob(pattern) if p.is_symlink() or p.exists() and not p.is_dir()})
    if not files:
        patterns = ", ".join(include)
        raise ConfigError(f"the corpus is empty: no files in {folder} match {patterns}", where=f"{where}.path")
    root = folder.resolve()
    documents, problems = [], []
    for file in files:
        doc_id = file.relative_to(folder).as_posix()
        try:
            target = file.resolve()
        except (RuntimeError, OSError):  # RuntimeError: Python's "Symlink loop"
            problems.append(f"{file}: a loop of symbolic links: it leads to no file")
            continue
        if not target.is_relative_to(root):
            problems.append(
                f"{file}: a symbolic link to {target}, outside the corpus folder; copy the file into the folder instead"
            )
            continue
        if not target.exists():
            problems.append(f"{file}: a symbolic link to {target}, which does not exist")
            continue
        if target.is_dir():
            continue  # a link to a folder inside the corpus: its files are matched on their own
        kind = _KINDS.get(file.suffix.lower())
        if kind is None:
            hint = " (convert PDFs to text first)" if file.suffix.lower() == ".pdf" else ""
            problems.append(f"{file}: unsupported file type {file.suffix or '(none)'}{hint}")
            continue
        try:
            raw = read_text(file)
        except TextFileError as error:
            problems.append(str(error))
            continue
        text, title = _parse(raw, kind)
        documents.append(Document(doc_id, text, title or file.stem, {"path": doc_id, "type": kind}))
    if problems:
        raise ConfigError(f"{len(problems)} corpus file(s) cannot be used", where=f"{where}.path", problems=problems)
    return documents


def _parse(raw: str, kind: str) -> tuple[str, str | None]:
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if kind == "html":
        return html_to_text(text)
    title = None
    if kind == "markdown":
        title = next((line[2:].strip() for line in text.split("\n") if line.startswith("# ")), None)
    return text.strip("\n"), title


def read_jsonl(path: Path, where: str) -> list[Document]:
    """One `{id, title, text, metadata}` object per line; `_id` is accepted for `id` (BEIR style)
    and other keys are kept as metadata."""
    documents, problems = [], []
    try:
        records = list(iter_jsonl(path, input_file=True))
    except JsonlError as error:
        raise ConfigError(str(error), where=f"{where}.path") from None
    for number, record in records:
        record = dict(record)
        doc_id = record.pop("id", None)
        doc_id = record.pop("_id", None) if doc_id is None else doc_id
        text = record.pop("text", None)
        if doc_id is None or str(doc_id) == "":
            problems.append(f"{path}:{number}: missing 'id'")
        elif not isinstance(text, str):
            problems.append(f"{path}:{number}: 'text' must be a string")
        else:
            title = record.pop("title", None) or None
            metadata = record.pop("metadata", None) or {}
            if not isinstance(metadata, dict):
                problems.append(f"{path}:{number}: 'metadata' must be an object")
                continue
            documents.append(Document(str(doc_id), text, str(title) if title else None, {**record, **metadata}))
        if len(problems) >= 20:
            problems.append("(stopped after 20 problems)")
            break
    if problems:
        raise ConfigError(f"{path.name} has malformed records", where=f"{where}.path", problems=problems)
    return documents
