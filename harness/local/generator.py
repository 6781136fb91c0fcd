"""Gemma 3 270M through llama.cpp: loaded once per process, several requests decoded together.

Requests for the local model queue in front of one decode thread (harness.local.scheduler),
which decodes up to HARNESS_LOCAL_BATCH sequences per llama.cpp call (harness.local.engine). A
sequence's text does not depend on what was decoded beside it, so batching changes speed, not
answers. LoRA adapters are loaded onto the one model and switched between batches.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.local.catalog import LOCAL_BATCH, LocalModelError, missing_extra
from harness.local.model_file import gemma_path
from harness.local.completion_prompt import CallOptions, OutputFormat, schema_key

DEFAULT_CONTEXT = 8192  # tokens per sequence (prompt + answer)
DEFAULT_BATCH = LOCAL_BATCH  # sequences per decode step (the most that decode exactly as one alone, see engine.py)
LOAD_SEED = 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LocalModelError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise LocalModelError(f"{name} must be at least 1, got {value}")
    return value


def batch_size() -> int:
    """Sequences decoded together (HARNESS_LOCAL_BATCH, 1 to 7; 1 decodes one request at a time)."""
    value = _env_int("HARNESS_LOCAL_BATCH", DEFAULT_BATCH)
    if value > DEFAULT_BATCH:
        raise LocalModelError(
            f"HARNESS_LOCAL_BATCH={value}: at most {DEFAULT_BATCH} sequences decode exactly as one alone"
        )
    return value


def llama_settings() -> dict[str, Any]:
    """Keyword arguments for `llama_cpp.Llama` (besides the paths), the settings the engine uses too;
    the benchmarks build their direct llama.cpp baseline from them."""
    return {
        "n_threads": _env_int("HARNESS_LOCAL_THREADS", min(4, os.cpu_count() or 1)),
        "n_ctx": _env_int("HARNESS_LOCAL_CONTEXT", DEFAULT_CONTEXT),
        "seed": LOAD_SEED,
        "verbose": False,
    }


def import_llama_cpp() -> Any:
    """Import llama_cpp, first asking OpenMP to sleep rather than spin while it waits.

    The llama.cpp wheel uses OpenMP; with spinning threads on a busy machine (tests or other
    jobs in parallel) even a short prompt takes many times longer. OpenMP reads the
    variable once, when it loads, so it is set before the import; set it yourself to override.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as error:
        raise missing_extra("llama-cpp-python", error) from error
    return llama_cpp


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def lora_key(lora_path: str | None, lora_scale: float) -> tuple:
    """(adapter path, scale, size, mtime): an adapter re-trained in place is loaded afresh."""
    if not lora_path:
        return (None, 1.0, 0, 0)
    path = Path(lora_path).resolve()
    try:
        stat = path.stat()
    except OSError:
        raise LocalModelError(f"LoRA adapter not found: {lora_path}") from None
    return (str(path), lora_scale, stat.st_size, stat.st_mtime_ns)


class LocalGenerator:
    """The local completion model: loads on first use, then queues requests for the decode thread."""

    def __init__(self, max_batch: int | None = None, *, exact: bool = True):
        self.max_batch = max_batch
        self.exact = exact
        self.load_s: float | None = None
        self.engine: Any = None
        self.scheduler: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _started(self) -> tuple[Any, Any]:
        with self._lock:
            if self.scheduler is None:
                from harness.local.engine import BatchEngine
                from harness.local.scheduler import DecodeScheduler

                llama_cpp = import_llama_cpp()
                model = gemma_path()
                settings = llama_settings()
                started = time.perf_counter()
                engine = BatchEngine(
                    llama_cpp,
                    str(model),
                    n_threads=settings["n_threads"],
                    n_ctx=settings["n_ctx"],
                    max_batch=self.max_batch or batch_size(),
                    exact=self.exact,
                )
                self.load_s = time.perf_counter() - started
                self.engine, self.scheduler = engine, DecodeScheduler(engine)
            return self.engine, self.scheduler

    def grammar(self, fmt: OutputFormat) -> Any:
        """The decoding grammar for `fmt` (None for free text), built once per schema."""
        key = schema_key(fmt)
        if key is None:
            return None
        with self._lock:
            if key not in self._grammars:
                llama_cpp = import_llama_cpp()
                try:
                    if fmt.schema is None:
                        from llama_cpp.llama_grammar import JSON_GBNF

                        built = llama_cpp.LlamaGrammar.from_string(JSON_GBNF, verbose=False)
                    else:
                        built = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(fmt.schema), verbose=False)
                except Exception as error:  # noqa: BLE001 - the converter raises assorted types
                    raise LocalModelError(f"cannot turn this JSON schema into a grammar: {error}") from error
                self._grammars[key] = built
            return self._grammars[key]

    def submit(self, prompt: str, options: CallOptions) -> Future:
        """Queue one completion; the future holds its Generation (or a LocalModelError)."""
        from harness.local.completion_text import CompletionText
        from harness.local.engine import Sequence

        grammar = self.grammar(options.output)
        adapter = lora_key(options.lora_path, options.lora_scale)
        engine, scheduler = self._started()
        tokens = engine.prompt_tokens(prompt)
        if len(tokens) >= engine.n_ctx:  # create_completion's limit and message
            raise LocalModelError(f"Requested tokens ({len(tokens)}) exceed context window of {engine.n_ctx}")
        room = engine.n_ctx - len(tokens)
        max_tokens = options.max_tokens if 0 < options.max_tokens < room else room
        text = CompletionText.create(options.stop, max_tokens, bos=None if prompt else engine.bos)
        future: Future = Future()

        def done(seq: Sequence, error: BaseException | None) -> None:
            try:
                if error is not None:
                    future.set_exception(error if isinstance(error, LocalModelError) else LocalModelError(str(error)))
                else:
                    future.set_result(
                        Generation(
                            text=seq.text.decoded().strip(),
                            prompt_tokens=len(seq.prompt_tokens),
                            completion_tokens=len(seq.text.tokens),
                            finish_reason=seq.text.finish_reason or "stop",
                        )
                    )
            except InvalidStateError:  # the caller cancelled it (timed out) meanwhile
                pass

        scheduler.submit(
            Sequence(
                prompt_tokens=tokens,
                text=text,
                temperature=options.temperature,
                top_p=options.top_p,
                seed=options.seed,
                grammar=grammar,
                adapter=adapter,
                on_done=done,
                is_cancelled=future.cancelled,
            )
        )
        return future

    def generate(self, prompt: str, options: CallOptions) -> Generation:
        """Blocking; from async code await `asyncio.wrap_future(submit(...))` instead."""
        return self.submit(prompt, options).result()

    def close(self) -> None:
        with self._lock:
            scheduler, self.scheduler, self.engine = self.scheduler, None, None
        if scheduler is not None:
            scheduler.close()

_generator: LocalGenerator | None = None
_generator_lock = threading.Lock()


def get_generator() -> LocalGenerator:
    """The process-wide generator; closed at exit (freeing llama.cpp objects at interpreter exit fails)."""
    global _generator
    with _generator_lock:
        if _generator is None:
            _generator = LocalGenerator()
            atexit.register(_generator.close)
        return _generator
