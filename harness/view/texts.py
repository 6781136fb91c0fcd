"""The texts of a run (inputs, references, outputs, contexts, reasons), read from its directory.

The store keeps scores, not texts; the side-by-side view and text search read the run directory
through `RunView`, once per run (started in the background when a run's page opens), and keep
its samples in memory (several times the size of samples.jsonl: parsing is what a first open
costs, so nothing is parsed twice) with one
lower-cased haystack per example for search. Runs are kept up to `KEEP_SAMPLES` samples in all
(least recently used out); a run whose files changed (a resumed run) is read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError
from harness.run import RunView
from harness.store.records import fingerprint

_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-texts")
KEEP_RUNS = 4
KEEP_SAMPLES = 40_000  # parsed samples (with retrieved contexts) kept across runs: bounds the memory held


class RunDirectoryMissing(HarnessError):
    """The store knows the run but its directory is gone (deleted, or moved elsewhere)."""


@dataclass
class RunTexts:
    path: str
    header: Any  # RunHeader
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the example (as recorded)
    samples: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (example id, system) -> row
    haystack: dict[str, str] = field(default_factory=dict)  # id -> lower-cased searchable text
    systems: list[str] = field(default_factory=list)

    def rows(self, example_id: str) -> dict[str, dict[str, Any]]:
        """system -> the sample's row, for one example, in system order (read-only: shared)."""
        out = {}
        for system in self.systems:
            row = self.samples.get((example_id, system))
            if row is not None:
                out[system] = row
        return out

    def search(self, ids: list[str], text: str) -> list[str]:
        """The ids whose input, reference, outputs, errors or id contain `text` (any case)."""
        needle = text.strip().lower()
        if not needle:
            return ids
        haystack = self.haystack
        return [i for i in ids if needle in haystack.get(i, "")]


def read_texts(path: str) -> RunTexts:
    """One pass over the run's samples."""
    try:
        view = RunView.open(path)
    except HarnessError as error:
        raise RunDirectoryMissing(
            f"the run directory is missing or unreadable ({error.args[0]}): texts, charts and comparisons need it; "
            "`harness runs add NEW_DIR` points the store at a moved run", where=path) from None
    texts = RunTexts(path=path, header=view.header)
    systems: dict[str, None] = dict.fromkeys(view.header.systems)
    parts: dict[str, list[str]] = {}
    for row in view.rows():
        example, system = row["example"], row["system"]
        example_id = str(example["id"])
        systems.setdefault(system, None)
        if example_id not in texts.examples:
            texts.examples[example_id] = example
            parts[example_id] = [example_id, str(example.get("input") or ""), str(example.get("reference") or "")]
        response = row.get("response") or {}
        parts[example_id] += [str(response.get("text") or ""), str(response.get("error") or "")]
        texts.samples[(example_id, system)] = row
    texts.haystack = {i: "\n".join(p).lower() for i, p in parts.items()}
    texts.systems = list(systems)
    return texts


class TextCache:
    """Runs' texts by directory, re-read when the directory's record files change."""

    def __init__(self, keep: int = KEEP_RUNS, keep_samples: int = KEEP_SAMPLES):
        self.keep, self.keep_samples = keep, keep_samples
        self._runs: OrderedDict[str, tuple[str, RunTexts]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._prefetching: set[str] = set()

    def get(self, path: str) -> RunTexts:
        stamp = fingerprint(path)
        with self._lock:
            cached = self._runs.get(path)
            if cached and cached[0] == stamp:
                self._runs.move_to_end(path)
                return cached[1]
            loading = self._loading.setdefault(path, threading.Lock())
        with loading:  # one reader per run; others wait for it
            with self._lock:
                cached = self._runs.get(path)
                if cached and cached[0] == stamp:
                    return cached[1]
            texts = read_texts(path)
            with self._lock:
                self._runs[path] = (stamp, texts)
                self._runs.move_to_end(path)
                while len(self._runs) > 1 and (len(self._runs) > self.keep or self._held() > self.keep_samples):
                    self._runs.popitem(last=False)  # the least recently used; the newest always stays
            return texts

    def prefetch(self, path: str) -> None:
        """Start reading a run's texts in the background (the run and samples pages call this,
        so the side-by-side view a click later finds them read). Errors surface on `get`."""
        with self._lock:
            if path in self._runs or path in self._prefetching:
                return
            self._prefetching.add(path)

        def read() -> None:
            try:
                self.get(path)
            except Exception:  # noqa: BLE001 - reported by the page that needs the texts
                pass
            finally:
                with self._lock:
                    self._prefetching.discard(path)

        _background.submit(read)

    def _held(self) -> int:
        return sum(len(texts.samples) for _, texts in self._runs.values())
