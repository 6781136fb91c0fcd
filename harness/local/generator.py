"""Gemma 3 270M through llama-cpp-python: loaded once per process, one call at a time per instance.

A `Llama` object is not thread-safe, so each instance has a lock. A LoRA adapter is applied at
load time, so each adapter gets its own instance; at most MAX_INSTANCES stay loaded.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.local.catalog import LocalModelError, missing_extra
from harness.local.model_file import gemma_path
from harness.local.completion_prompt import CallOptions, OutputFormat, schema_key

MAX_INSTANCES = 2
DEFAULT_CONTEXT = 8192
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


def llama_settings() -> dict[str, Any]:
    """Keyword arguments for `llama_cpp.Llama` (besides the paths); the benchmark reuses them."""
    return {
        "n_threads": _env_int("HARNESS_LOCAL_THREADS", min(4, os.cpu_count() or 1)),
        "n_ctx": _env_int("HARNESS_LOCAL_CONTEXT", DEFAULT_CONTEXT),
        "seed": LOAD_SEED,
        "verbose": False,
    }


def import_llama_cpp() -> Any:
    """Import llama_cpp, first asking OpenMP to sleep rather than spin while it waits.

    The llama.cpp wheel uses OpenMP; with spinning threads on a busy machine (tests or other
    jobs in parallel) one 13-token prompt took 2-14 s instead of ~0.7 s. OpenMP reads the
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


def _instance_key(lora_path: str | None, lora_scale: float) -> tuple:
    """(adapter path, scale, size, mtime): an adapter re-trained in place gets a fresh instance."""
    if not lora_path:
        return (None, 1.0, 0, 0)
    path = Path(lora_path).resolve()
    try:
        stat = path.stat()
    except OSError:
        raise LocalModelError(f"LoRA adapter not found: {lora_path}") from None
    return (str(path), lora_scale, stat.st_size, stat.st_mtime_ns)


class _Instance:
    def __init__(self, llama: Any, load_s: float):
        self.llama = llama
        self.load_s = load_s
        self.lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        with self.lock:  # waits for a call still running on it
            self.closed = True
            self.llama.close()


class LlamaPool:
    """Loaded Llama instances keyed by LoRA adapter (None = the base model), least recently used out."""

    def __init__(self, max_instances: int = MAX_INSTANCES):
        self.max_instances = max_instances
        self._instances: OrderedDict[tuple, _Instance] = OrderedDict()
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def instance(self, lora_path: str | None = None, lora_scale: float = 1.0) -> _Instance:
        key = _instance_key(lora_path, lora_scale)
        with self._lock:
            if key in self._instances:
                self._instances.move_to_end(key)
                return self._instances[key]
            llama_cpp = import_llama_cpp()
            model = gemma_path()
            started = time.perf_counter()
            extra = {"lora_path": key[0], "lora_scale": key[1]} if key[0] else {}
            try:
                llama = llama_cpp.Llama(model_path=str(model), **llama_settings(), **extra)
            except (ValueError, RuntimeError) as error:  # llama-cpp-python's "failed to load" errors
                adapter = f" with LoRA adapter {key[0]}" if key[0] else ""
                raise LocalModelError(f"could not load {model}{adapter}: {error}") from error
            created = self._instances[key] = _Instance(llama, time.perf_counter() - started)
            while len(self._instances) > self.max_instances:
                self._instances.popitem(last=False)[1].close()
            return created

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

    def generate(self, prompt: str, options: CallOptions) -> Generation:
        """Blocking: run it in a worker thread from async code."""
        grammar = self.grammar(options.output)
        while True:
            inst = self.instance(options.lora_path, options.lora_scale)
            with inst.lock:
                if not inst.closed:  # else it was evicted between lookup and lock: look up again
                    out = self._complete(inst.llama, prompt, options, grammar)
                    break
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Generation(
            text=choice["text"].strip(),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=choice.get("finish_reason") or "stop",
        )

    @staticmethod
    def _complete(llama: Any, prompt: str, options: CallOptions, grammar: Any) -> dict[str, Any]:
        try:
            return llama.create_completion(
                prompt,
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                top_p=options.top_p,
                seed=options.seed,
                stop=list(options.stop),
                grammar=grammar,
            )
        except ValueError as error:  # e.g. "Requested tokens (...) exceed context window"
            raise LocalModelError(str(error)) from error

    def close(self) -> None:
        with self._lock:
            while self._instances:
                self._instances.popitem()[1].close()


_pool: LlamaPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> LlamaPool:
    """The process-wide pool; closed at exit (Llama.__del__ at interpreter exit raises TypeError)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = LlamaPool()
            atexit.register(_pool.close)
        return _pool
