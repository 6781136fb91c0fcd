"""PEFT LoRA weights -> a GGUF LoRA that llama.cpp (`Llama(lora_path=...)`) loads.

llama.cpp's own `convert_lora_to_gguf.py` ships only in its source tree and needs the HF config
with `architectures`, which a GGUF-loaded model lacks; the format is small enough to write here:
`general.type=adapter`, `adapter.type=lora`, `adapter.lora.alpha`, and per target weight
`<llama.cpp name>.lora_a` (r x in) and `.lora_b` (out x r).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

_PEFT_NAME = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<part>[AB])(?:\.default)?\.weight$")


def pair_lora_weights(state: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{HF module name: (A, B)} from a PEFT state dict (names like `...q_proj.lora_A.weight`)."""
    parts: dict[str, dict[str, np.ndarray]] = {}
    for name, tensor in state.items():
        found = _PEFT_NAME.match(name)
        if not found:
            raise ValueError(f"not a LoRA A/B weight: {name}")
        array = tensor.detach().float().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, np.float32)
        parts.setdefault(found["module"], {})[found["part"]] = array
    incomplete = [m for m, ab in parts.items() if set(ab) != {"A", "B"}]
    if incomplete:
        raise ValueError(f"LoRA weights without their A/B pair: {', '.join(incomplete)}")
    return {module: (ab["A"], ab["B"]) for module, ab in parts.items()}


def write_gguf_lora(
    state: Mapping[str, Any], path: Path, *, architecture: str, n_layers: int, alpha: float, dtype: str = "f16"
) -> int:
    """Write the LoRA; returns the number of tensors. `architecture` is the GGUF arch name (gemma3)."""
    import gguf

    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == architecture), None)
    if arch is None:
        raise ValueError(f"gguf does not know the architecture {architecture!r}")
    names = gguf.get_tensor_name_map(arch, n_layers)
    np_dtype = np.float16 if dtype == "f16" else np.float32
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    count = 0
    for module, (a, b) in sorted(pair_lora_weights(state).items()):
        target = names.get_name(module)
        if target is None:
            raise ValueError(f"no llama.cpp tensor name for {module} in {architecture}")
        if a.shape[0] != b.shape[1]:
            raise ValueError(f"{module}: rank mismatch between A {a.shape} and B {b.shape}")
        writer.add_tensor(f"{target}.weight.lora_a", np.ascontiguousarray(a, dtype=np_dtype))
        writer.add_tensor(f"{target}.weight.lora_b", np.ascontiguousarray(b, dtype=np_dtype))
        count += 2
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return count


def read_gguf_lora(path: Path) -> dict[str, Any]:
    """Metadata and tensor shapes of a written LoRA (for tests and `harness finetune` output)."""
    import gguf

    reader = gguf.GGUFReader(str(path))

    def field(key: str) -> Any:
        item = reader.fields.get(key)
        return None if item is None else item.contents()

    return {
        "architecture": field("general.architecture"),
        "type": field("general.type"),
        "adapter_type": field("adapter.type"),
        "alpha": field("adapter.lora.alpha"),
        "tensors": {t.name: [int(x) for x in t.shape] for t in reader.tensors},
    }
