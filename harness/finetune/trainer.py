"""The local LoRA trainer: transformers + peft on the dequantized GGUF base, then a GGUF LoRA.

Tokens come from llama.cpp's own tokenizer (vocab-only load, under a second) so training sees
the exact ids the served model sees: BOS + prompt, then the target and EOS. Loss is on the
target only. A plain loop instead of `Trainer`: fewer moving parts, and the loss per step is ours.
"""

from __future__ import annotations

import contextlib
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.errors import ConfigError
from harness.finetune.config import INSTALL_HINT, BaseModelSpec, TrainConfig
from harness.finetune.data import TrainingRecord

StepCallback = Callable[[int, int, float], None]  # (step, total, loss)
StatusCallback = Callable[[str], None]


@dataclass
class TrainResult:
    losses: list[float]
    n_examples: int
    n_truncated: int
    trainable_parameters: int
    device: str
    n_tensors: int
    seconds: dict[str, float] = field(default_factory=dict)


def _imports() -> tuple[Any, Any, Any]:
    try:
        import peft
        import torch
        import transformers
    except ImportError as error:
        raise ConfigError(f"local fine-tuning needs {error.name} (not installed); install with: {INSTALL_HINT}") from error
    return torch, transformers, peft


def tokenize_records(records: list[TrainingRecord], model_file: Path, max_length: int) -> tuple[list[tuple[list[int], list[int]]], int]:
    """[(input ids, labels)] with labels -100 on the prompt, and how many were cut to max_length."""
    try:
        import llama_cpp
    except ImportError as error:
        raise ConfigError(f"local fine-tuning needs llama-cpp-python (not installed); install with: {INSTALL_HINT}") from error

    with _native_stderr_silenced():  # llama.cpp warns about the (unused) context of a vocab-only load
        vocab = llama_cpp.Llama(model_path=str(model_file), vocab_only=True, verbose=False)
    try:
        bos, eos = vocab.token_bos(), vocab.token_eos()
        out, truncated = [], 0
        for record in records:
            prompt = [bos] + vocab.tokenize(record.prompt_text().encode(), add_bos=False, special=True)
            target = vocab.tokenize(record.completion_text().encode(), add_bos=False, special=False) + [eos]
            target = target[: max_length - 1]
            ids, labels = prompt + target, [-100] * len(prompt) + target
            if len(ids) > max_length:  # keep BOS and the end of the prompt (the question and the cue)
                truncated += 1
                keep = max_length - 1
                ids, labels = [bos] + ids[-keep:], [-100] + labels[-keep:]
            out.append((ids, labels))
        return out, truncated
    finally:
        vocab.close()


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a moment (C libraries write there directly)."""
    import os
    import sys

    try:
        sys.stderr.flush()
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no real stderr (embedded interpreters, some test runners)
        yield
        return
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _batches(n: int, batch_size: int, total_steps: int, seed: int) -> list[list[int]]:
    """Shuffled passes over the data, each pass reshuffled, cut into total_steps batches."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < total_steps * batch_size:
        epoch = list(range(n))
        rng.shuffle(epoch)
        order += epoch
    return [order[i * batch_size : (i + 1) * batch_size] for i in range(total_steps)]


def load_base(model_file: Path, device: str) -> Any:
    """The GGUF dequantized to float32 (transformers has no trainable 4-bit GGUF path)."""
    torch, transformers, _ = _imports()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with _quiet_gguf_progress():
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(model_file.parent), gguf_file=model_file.name, dtype=torch.float32
        )
    return model.to(device)


@contextlib.contextmanager
def _quiet_gguf_progress() -> Iterator[None]:
    """transformers' GGUF loader draws its own tqdm bar (not behind its progress switch)."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    gguf_utils.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def target_loss(model: Any, ids: Any, mask: Any, labels: Any) -> Any:
    """Mean next-token loss on the target tokens, with the LM head run on those positions only.

    Gemma's vocabulary is 262k: the head on every position would cost more than the whole
    transformer below it (and hold logits over the whole vocabulary for every position). Same
    value as HF's `labels=` loss.
    """
    import torch.nn.functional as F

    causal = model.get_base_model()
    hidden = causal.get_decoder()(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    wanted = labels[:, 1:] != -100
    logits = causal.get_output_embeddings()(hidden[:, :-1][wanted]).float()
    if cap := getattr(causal.config, "final_logit_softcapping", None):
        logits = (logits / cap).tanh() * cap
    return F.cross_entropy(logits, labels[:, 1:][wanted])


def train_lora(
    records: list[TrainingRecord],
    config: TrainConfig,
    base: BaseModelSpec,
    lora_path: Path,
    *,
    on_step: StepCallback | None = None,
    on_status: StatusCallback | None = None,
) -> TrainResult:
    """Train a LoRA on `records` and write it to `lora_path` as a GGUF LoRA."""
    with warnings.catch_warnings():  # library chatter about deprecations and a missing HF config
        warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*")
        warnings.filterwarnings("ignore", message=r"Could not find a config file.*")
        return _train(records, config, base, lora_path, on_step, on_status)


def _train(
    records: list[TrainingRecord],
    config: TrainConfig,
    base: BaseModelSpec,
    lora_path: Path,
    on_step: StepCallback | None,
    on_status: StatusCallback | None,
) -> TrainResult:
    torch, _, peft = _imports()
    from harness.finetune.gguf_lora import write_gguf_lora

    status = on_status or (lambda _text: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    model_file = base.path()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data, truncated = tokenize_records(records, model_file, config.max_length)
    if truncated:
        status(
            f"warning: {truncated} of {len(data)} examples are longer than max_length={config.max_length} tokens "
            "and lose the start of their prompt; raise train.max_length to train on whole prompts"
        )
    status(f"loading {base.name} (dequantizing the GGUF, about a minute on CPU)")
    torch.manual_seed(config.seed)
    model = load_base(model_file, device)
    lora = peft.LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    model = peft.get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    seconds["load"] = time.perf_counter() - started

    total = config.total_steps(len(data))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total)
    pad = int(getattr(model.config, "pad_token_id", 0) or 0)
    model.train()
    losses: list[float] = []
    status(f"training {total} steps")
    train_started = time.perf_counter()
    for step, batch in enumerate(_batches(len(data), config.batch_size, total, config.seed), start=1):
        rows = [data[i] for i in batch]
        width = max(len(ids) for ids, _ in rows)
        ids = torch.tensor([r[0] + [pad] * (width - len(r[0])) for r in rows], device=device)
        labels = torch.tensor([r[1] + [-100] * (width - len(r[1])) for r in rows], device=device)
        mask = torch.tensor([[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows], device=device)
        loss = target_loss(model, ids, mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(float(loss.detach()), 6))
        if on_step:
            on_step(step, total, losses[-1])
    seconds["train"] = time.perf_counter() - train_started

    status("writing the GGUF LoRA")
    convert_started = time.perf_counter()
    state = peft.get_peft_model_state_dict(model)
    n_tensors = write_gguf_lora(
        state,
        lora_path,
        architecture=base.architecture,
        n_layers=int(model.config.num_hidden_layers),
        alpha=config.lora_alpha,
    )
    seconds["convert"] = time.perf_counter() - convert_started
    seconds["total"] = time.perf_counter() - started
    return TrainResult(losses, len(data), truncated, trainable, device, n_tensors, seconds)
