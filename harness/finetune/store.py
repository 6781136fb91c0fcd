"""Trained LoRAs cached under `<cache>/loras/<key>`, the key hashing data + config + base file.

A folder under its final name is complete by construction: it is built under a private temp
name and renamed in one step, so a killed training run leaves only a `.tmp-*` folder that no
lookup ever mistakes for an LoRA (and the next build of that key deletes). A file lock keeps
two processes from training the same key at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.finetune.config import TRAINER_VERSION, BaseModelSpec, TrainConfig
from harness.finetune.data import TrainingRecord, data_hash
from harness.finetune.lineage import (
    LINEAGE_FILE,
    build_lineage,
    read_lineage,
    write_lineage,
)
from harness.runtime.progress import ProgressView

LORA_FILE = "lora.gguf"
Trainer = Callable[..., Any]  # train_lora's signature; tests pass a fake


def lora_key(records: list[TrainingRecord], config: TrainConfig, base: BaseModelSpec) -> str:
    blob = json.dumps(
        {
            "trainer": TRAINER_VERSION,
            "base": {"name": base.name, "sha256": base.sha256},
            "hyperparameters": config.hyperparameters(),
            "data": data_hash(records),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass
class TrainedLora:
    key: str
    folder: Path
    trained: bool = False  # True when this call trained it (False: found in the cache)

    @property
    def path(self) -> Path:
        return self.folder / LORA_FILE

    @property
    def lineage_path(self) -> Path:
        return self.folder / LINEAGE_FILE

    def lineage(self) -> dict[str, Any]:
        return read_lineage(self.folder)


class LoraStore:
    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "loras"

    def find(self, key: str) -> TrainedLora | None:
        folder = self.root / key
        if (folder / LORA_FILE).is_file() and (folder / LINEAGE_FILE).is_file():
            return TrainedLora(key, folder)
        return None

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # no flock (Windows): the atomic rename still keeps LoRAs whole
            yield
            return
        with open(self.root / f".{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def build(self, key: str, make: Callable[[Path], None], *, force: bool = False) -> TrainedLora:
        """The cached LoRA for `key`, or `make(temp_folder)` it and publish it atomically."""
        with self._locked(key):
            if not force and (found := self.find(key)):
                return found
            for stale in self.root.glob(f".tmp-{key}-*"):  # left by a killed build; we hold the lock
                shutil.rmtree(stale, ignore_errors=True)
            temp = self.root / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            temp.mkdir()
            try:
                make(temp)
                final = self.root / key
                if final.exists():  # --force: move the old one aside first, then drop it
                    old = self.root / f".tmp-{key}-old-{uuid.uuid4().hex[:8]}"
                    os.rename(final, old)
                    shutil.rmtree(old, ignore_errors=True)
                os.rename(temp, final)
            finally:
                shutil.rmtree(temp, ignore_errors=True)
            return TrainedLora(key, final, trained=True)


def ensure_lora(
    records: list[TrainingRecord],
    config: TrainConfig,
    base: BaseModelSpec,
    cache_dir: Path,
    *,
    prompt: dict[str, Any],
    force: bool = False,
    trainer: Trainer | None = None,
    progress: bool = True,
    built_for: dict[str, Any] | None = None,
) -> TrainedLora:
    """Train (or find) the LoRA for these records; blocking, run it off the event loop."""
    store = LoraStore(cache_dir)
    key = lora_key(records, config, base)
    if not force and (found := store.find(key)):
        return found
    if trainer is None:
        from harness.finetune.trainer import train_lora as trainer

    def make(folder: Path) -> None:
        with training_progress(enabled=progress, label=built_for.get("system") if built_for else None) as view:
            result = trainer(records, config, base, folder / LORA_FILE, on_step=view.step, on_status=view.status)
        lora_file = folder / LORA_FILE
        record = build_lineage(
            key=key,
            base={"name": base.name, "architecture": base.architecture, "file_sha256": base.sha256},
            data={"sha256": data_hash(records), "example_ids": [r.id for r in records]},
            hyperparameters={**config.hyperparameters(), "total_steps": len(result.losses)},
            prompt=prompt,
            result=result,
            lora={"file": LORA_FILE, "bytes": lora_file.stat().st_size, "sha256": _sha256(lora_file),
                     "tensors": result.n_tensors},
            built_for=built_for,
        )
        write_lineage(folder, record)

    return store.build(key, make, force=force)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextlib.contextmanager
def training_progress(*, enabled: bool = True, label: str | None = None) -> Iterator["_TrainingView"]:
    """A bar with the loss on a terminal; plain `step i/n loss x` lines in logs."""
    name = f"fine-tuning {label}" if label else "fine-tuning"
    with ProgressView({name: 0}, enabled=enabled, plain_lines=True) as bars:
        yield _TrainingView(bars, name)


class _TrainingView:
    """The trainer's two callbacks (`on_step`, `on_status`) drawn on one progress bar."""

    def __init__(self, bars: ProgressView, name: str):
        self.bars = bars
        self.name = name

    def status(self, text: str) -> None:
        self.bars.message(f"{self.name}: {text}")

    def step(self, step: int, total: int, loss: float) -> None:
        self.bars.update(self.name, step, total, note=f"loss {loss:.4f}")
