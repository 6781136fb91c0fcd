"""Several sequences per llama.cpp decode: one model, one context, one KV stream per sequence.

A sequence's text must not depend on what is decoded beside it. Measured on this llama.cpp build
(logits of one sequence alone vs. beside others, compared bit for bit):
  - `use_extra_bufts = False`: the repacked CPU kernels (on by default) gave other logits for
    rows in a group of four than for the last rows of a batch; 1 answer in 10 changed.
  - `kv_unified = False`: in a shared KV buffer a sequence's cells interleave with the others'
    and attention adds in another order; with one stream per sequence it is filled from cell 0
    exactly as alone.
  - a prompt is decoded alone, in the same 512-token chunks as alone: llama.cpp splits a batch
    of several prompts into equal pieces per sequence, and a prompt cut at other places gave
    other logits (as llama-cpp-python's reuse of the previous call's prompt prefix does).
  - at most MAX_BATCH (7) sequences per generation step: from 8 tokens per decode llama.cpp's
    CPU matmul takes another path and the logits differ from one-token decodes.
With these, logits were identical bit for bit at 1 to 7 sequences per step. LoRA adapters are
loaded on the one model and switched on the context between batches (one adapter per batch),
instead of one model copy per adapter.
"""

from __future__ import annotations

import ctypes
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from harness.local.catalog import LOCAL_BATCH, LocalModelError
from harness.local.completion_text import CompletionText

BATCH_TOKENS = 512  # tokens per decode call (n_batch = n_ubatch, as llama-cpp-python's default)
MAX_BATCH = LOCAL_BATCH  # 7: sequences per generation step that still decode exactly as one alone
MAX_ADAPTERS = 8
# llama-cpp-python's create_completion defaults, used when temperature > 0
TOP_K, MIN_P, TYPICAL_P = 40, 0.05, 1.0
# llama_token_data as a numpy record: a whole vocabulary of candidates without a Python loop
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


@dataclass(eq=False)  # compared by identity: two requests may look alike
class Sequence:
    """One request being decoded: its prompt, how it samples, and its text so far."""

    prompt_tokens: list[int]
    text: CompletionText
    temperature: float
    top_p: float
    seed: int
    grammar: Any = None  # a llama_cpp.LlamaGrammar, or None
    adapter: tuple = (None, 1.0, 0, 0)  # generator's LoRA key; (None, ...) is the base model
    on_done: Callable[["Sequence", BaseException | None], None] | None = None
    is_cancelled: Callable[[], bool] = lambda: False
    queued_at: float = 0.0
    # decoding state, owned by the engine
    slot: int = -1
    n_past: int = 0
    prefilled: bool = False  # the whole prompt is in the KV cache
    pending: list[int] = field(default_factory=list)
    sampler: Any = None  # a llama.cpp sampler chain (temperature > 0), or None
    grammar_sampler: Any = None  # greedy + grammar: the grammar alone, checked against the argmax first


class BatchEngine:
    """The model and a context with `max_batch` sequence slots. Not thread-safe: one thread drives it."""

    def __init__(
        self, llama_cpp: Any, model_path: str, *, n_threads: int, n_ctx: int, max_batch: int, exact: bool = True
    ):
        """`exact=False` allows more than MAX_BATCH sequences per step (benchmarks only: answers change)."""
        from llama_cpp import _internals as internals

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # what Llama(verbose=False) does
        llama_cpp.llama_backend_init()
        if max_batch < 1 or (exact and max_batch > MAX_BATCH):
            raise LocalModelError(
                f"the local model decodes 1 to {MAX_BATCH} sequences together, not {max_batch}: from "
                f"{MAX_BATCH + 1} on llama.cpp's CPU kernels change and so would the answers"
            )
        self.lib = llama_cpp
        self.max_batch = max_batch
        self.n_ctx = n_ctx  # per sequence
        model_params = llama_cpp.llama_model_default_params()
        model_params.use_extra_bufts = False
        try:
            self.model = internals.LlamaModel(path_model=model_path, params=model_params, verbose=False)
        except ValueError as error:
            raise LocalModelError(f"could not load {model_path}: {error}") from error
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * max_batch
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = max_batch
        params.kv_unified = False
        params.swa_full = False  # sliding-window layers keep window + batch cells, not n_ctx
        params.n_threads = params.n_threads_batch = n_threads
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as Llama(flash_attn=False)
        params.no_perf = True
        try:
            self.context = internals.LlamaContext(model=self.model, params=params, verbose=False)
        except ValueError as error:
            self.model.close()
            raise LocalModelError(f"could not create a llama.cpp context for {max_batch} sequences: {error}") from error
        self.ctx = self.context.ctx
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = self.model.vocab
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(BATCH_TOKENS, 0, 1)
        self.bos = self.model.token_bos()
        self.add_bos = bool(self.model.add_bos_token()) and self.bos != -1
        self._adapters: OrderedDict[tuple, Any] = OrderedDict()
        self._current: tuple | None = None
        self._piece = ctypes.create_string_buffer(256)

    # ----- text <-> tokens ------------------------------------------------------------------
    def prompt_tokens(self, prompt: str) -> list[int]:
        """As create_completion: BOS (when the model adds one), then the prompt with special tokens parsed."""
        body = self.model.tokenize(prompt.encode("utf-8"), add_bos=False, special=True) if prompt else []
        return ([self.bos] if self.add_bos else []) + body

    def piece(self, token: int) -> bytes:
        n = self.lib.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        if n < 0:
            buffer = ctypes.create_string_buffer(-n)
            n = self.lib.llama_token_to_piece(self.vocab, token, buffer, -n, 0, False)
            return bytes(buffer[:n])
        return bytes(self._piece[:n])

    # ----- LoRA adapters ----------------------------------------------------------------------
    @property
    def current_adapter(self) -> tuple | None:
        return self._current

    def use_adapter(self, key: tuple) -> None:
        """Apply the adapter for `key` (path, scale, size, mtime) to the context; None path = base model."""
        if key == self._current:
            return
        lib = self.lib
        if key[0] is None:
            lib.llama_set_adapters_lora(self.ctx, None, 0, None)
        else:
            if key not in self._adapters:
                adapter = lib.llama_adapter_lora_init(self.model.model, key[0].encode("utf-8"))
                if not adapter:
                    raise LocalModelError(f"could not load the LoRA adapter {key[0]} onto the base model")
                self._adapters[key] = adapter
                while len(self._adapters) > MAX_ADAPTERS:  # never the one in use: it was just added
                    _, old = self._adapters.popitem(last=False)
                    lib.llama_adapter_lora_free(old)
            self._adapters.move_to_end(key)
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self._adapters[key])
            scales = (ctypes.c_float * 1)(key[1])
            if lib.llama_set_adapters_lora(self.ctx, adapters, 1, scales):
                raise LocalModelError(f"could not apply the LoRA adapter {key[0]}")
        self._current = key

    # ----- sequences ----------------------------------------------------------------------------
    def start(self, seq: Sequence, slot: int) -> None:
        seq.slot, seq.n_past, seq.pending, seq.prefilled = slot, 0, list(seq.prompt_tokens), False
        self.lib.llama_memory_seq_rm(self.memory, slot, -1, -1)
        seq.sampler = self._sampler(seq)

    def release(self, seq: Sequence) -> None:
        if seq.slot >= 0:
            self.lib.llama_memory_seq_rm(self.memory, seq.slot, -1, -1)
        for sampler in (seq.sampler, seq.grammar_sampler):
            if sampler is not None:
                self.lib.llama_sampler_free(sampler)
        seq.slot, seq.sampler, seq.grammar_sampler = -1, None, None

    def _grammar(self, seq: Sequence) -> Any:
        lib = self.lib
        grammar = lib.llama_sampler_init_grammar(
            self.vocab, seq.grammar._grammar.encode("utf-8"), seq.grammar._root.encode("utf-8")
        )
        if not grammar:
            raise LocalModelError("llama.cpp could not parse the decoding grammar for this JSON schema")
        return grammar

    def _sampler(self, seq: Sequence) -> Any:
        """llama-cpp-python's sampler chain for these settings; None for greedy (done in _sample)."""
        lib = self.lib
        if seq.temperature == 0.0:
            seq.grammar_sampler = self._grammar(seq) if seq.grammar is not None else None
            return None
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if seq.grammar is not None:
            try:
                lib.llama_sampler_chain_add(chain, self._grammar(seq))
            except LocalModelError:
                lib.llama_sampler_free(chain)
                raise
        if seq.temperature < 0.0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seq.seed))
        else:
            for sampler in (
                lib.llama_sampler_init_top_k(TOP_K),
                lib.llama_sampler_init_typical(TYPICAL_P, 1),
                lib.llama_sampler_init_top_p(seq.top_p, 1),
                lib.llama_sampler_init_min_p(MIN_P, 1),
                lib.llama_sampler_init_temp(seq.temperature),
                lib.llama_sampler_init_dist(seq.seed),
            ):
                lib.llama_sampler_chain_add(chain, sampler)
        return chain

    def step(self, active: list[Sequence]) -> list[Sequence]:
        """One prompt chunk of one new sequence (decoded alone, as it would be alone), then one
        token for every generating sequence in a single decode. Returns the finished sequences."""
        finished: list[Sequence] = []
        starting = next((s for s in active if not s.prefilled), None)
        if starting is not None:
            chunk = starting.pending[:BATCH_TOKENS]
            del starting.pending[: len(chunk)]
            starting.prefilled = not starting.pending
            self._decode([(starting, chunk)])
            if starting.prefilled:
                finished += self._next_token([(starting, len(chunk) - 1)])
        generating = [s for s in active if s.prefilled and s.pending and s not in finished]
        if generating:
            self._decode([(seq, seq.pending) for seq in generating])
            finished += self._next_token([(seq, i) for i, seq in enumerate(generating)])
        return finished

    def _decode(self, parts: list[tuple[Sequence, list[int]]]) -> None:
        """Tokens of each sequence at its next positions; logits for the last token of each part."""
        lib, batch = self.lib, self.batch
        n = 0
        for seq, tokens in parts:
            for k, token in enumerate(tokens):
                batch.token[n] = token
                batch.pos[n] = seq.n_past + k
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = seq.slot
                batch.logits[n] = k == len(tokens) - 1
                n += 1
            seq.n_past += len(tokens)
        batch.n_tokens = n
        code = lib.llama_decode(self.ctx, batch)
        if code != 0:
            raise LocalModelError(f"llama.cpp could not decode a batch of {n} tokens (llama_decode returned {code})")

    def _next_token(self, outputs: list[tuple[Sequence, int]]) -> list[Sequence]:
        """Sample each sequence's next token from batch position `index`; returns those that finished."""
        finished = []
        for seq, index in outputs:
            token = self._sample(seq, index)
            if self.lib.llama_vocab_is_eog(self.vocab, token):
                seq.text.end_of_generation()
            else:
                seq.text.add(token, self.piece(token))
            if seq.text.finished:
                finished.append(seq)
            else:
                seq.pending = [token]
        return finished

    def _sample(self, seq: Sequence, index: int) -> int:
        lib = self.lib
        if seq.sampler is not None:
            return int(lib.llama_sampler_sample(seq.sampler, self.ctx, index))
        # greedy: the first largest logit, as llama.cpp's greedy sampler picks
        logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(self.ctx, index), shape=(self.n_vocab,))
        token = int(logits.argmax())
        if seq.grammar_sampler is None:
            return token
        # Checking the grammar on all 262k candidates doubled the cost of a token. When it allows
        # the argmax, the argmax is also the first largest allowed logit: the same token.
        if not self._allowed(seq.grammar_sampler, token, float(logits[token])):
            candidates = np.empty(self.n_vocab, dtype=_TOKEN_DATA)
            candidates["id"] = np.arange(self.n_vocab, dtype=np.int32)
            candidates["logit"] = logits
            candidates["p"] = 0.0
            self._apply(seq.grammar_sampler, candidates)
            token = int(candidates["logit"].argmax())
        lib.llama_sampler_accept(seq.grammar_sampler, token)
        return token

    def _allowed(self, grammar: Any, token: int, logit: float) -> bool:
        one = np.array([(token, logit, 0.0)], dtype=_TOKEN_DATA)
        self._apply(grammar, one)
        return bool(np.isfinite(one["logit"][0]))

    def _apply(self, sampler: Any, candidates: np.ndarray) -> None:
        lib = self.lib
        data = candidates.ctypes.data_as(ctypes.POINTER(lib.llama_token_data))
        array = lib.llama_token_data_array(data=data, size=len(candidates), selected=-1, sorted=False)
        lib.llama_sampler_apply(sampler, ctypes.byref(array))

    def close(self) -> None:
        lib = self.lib
        if self.batch is not None:
            lib.llama_batch_free(self.batch)
            self.batch = None
        self.context.close()  # before the adapters and the model it uses
        while self._adapters:
            lib.llama_adapter_lora_free(self._adapters.popitem()[1])
        self.model.close()
