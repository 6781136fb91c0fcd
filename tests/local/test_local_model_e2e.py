"""The real local models behind the gateway: a few short calls to Gemma 3 270M and MiniLM."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness.gateway import Gateway, GenerationParams, ModelRequest

# find_spec, not importorskip: collecting this file must not import torch when the tests are deselected
_MISSING = [name for name in ("llama_cpp", "sentence_transformers") if importlib.util.find_spec(name) is None]
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(bool(_MISSING), reason=f"needs the [local] extra (missing {', '.join(_MISSING)})"),
]

GEMMA = "local/gemma-3-270m"
MINILM = "local/all-minilm-l6-v2"
# the model folder outside the per-test response cache that conftest sets, so the GGUF is built once
EIFFEL = [
    {"role": "system", "content": "Answer using only this context: The Eiffel Tower is in Paris. It was completed in 1889."},
    {"role": "user", "content": "Question: In what year was the Eiffel Tower completed?\nAnswer:"},
]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "year": {"type": "integer"}},
    "required": ["city", "year"],
    "additionalProperties": False,
}


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # one thread: other test processes share the cores, and oversubscribed threads collapse throughput
    monkeypatch.setenv("HARNESS_LOCAL_THREADS", os.environ.get("HARNESS_LOCAL_THREADS", "1"))


def complete(request: ModelRequest):
    return asyncio.run(Gateway().complete(request))


def test_grounded_question_is_answered_from_the_context() -> None:
    reply = complete(ModelRequest(model=GEMMA, messages=EIFFEL, params=GenerationParams(max_tokens=16)))
    assert "1889" in reply.text
    assert reply.model == GEMMA and reply.cost_usd == 0.0
    assert reply.usage.input_tokens > 10 and 0 < reply.usage.output_tokens <= 16


def test_json_schema_request_returns_json_valid_against_the_schema() -> None:
    import jsonschema

    request = ModelRequest(model=GEMMA, messages=EIFFEL, params=GenerationParams(max_tokens=48), response_schema=SCHEMA)
    data = json.loads(complete(request).text)
    jsonschema.validate(data, SCHEMA)


def test_same_request_twice_gives_the_same_text_also_through_litellm() -> None:
    from harness.gateway.providers import load_litellm

    messages = [{"role": "user", "content": "Question: Name three colours of the rainbow.\nAnswer:"}]
    request = ModelRequest(model=GEMMA, messages=messages, params=GenerationParams(max_tokens=24))

    async def twice() -> list[str]:
        gateway = Gateway()  # no response cache: both calls reach the model
        return [(await gateway.complete(request)).text for _ in range(2)]

    first, second = asyncio.run(twice())
    assert first and first == second
    # litellm's own route hands the provider the bare name "gemma-3-270m"
    via_litellm = load_litellm().completion(model=GEMMA, messages=messages, max_tokens=24, temperature=0, seed=0)
    assert via_litellm.choices[0].message.content == first and via_litellm.model == GEMMA


def test_lora_path_in_extra_loads_the_adapter_onto_the_one_model(tmp_path: Path) -> None:
    from harness.local.generator import get_generator

    adapter = zero_lora(tmp_path / "zero-lora.gguf")
    base = complete(ModelRequest(model=GEMMA, messages=EIFFEL, params=GenerationParams(max_tokens=16)))
    tuned_params = GenerationParams(max_tokens=16, extra={"lora_path": str(adapter)})
    tuned = complete(ModelRequest(model=GEMMA, messages=EIFFEL, params=tuned_params))
    assert tuned.text == base.text  # a zero update changes nothing
    assert any(key[0] == str(adapter.resolve()) for key in get_generator().engine._adapters)


def test_embeddings_are_unit_rows_and_similar_sentences_are_closer() -> None:
    from harness.gateway.providers import load_litellm

    texts = ["A cat is sleeping on the sofa.", "A kitten naps on the couch.", "Interest rates rose by half a percent."]
    vectors = asyncio.run(Gateway().embed(MINILM, texts))
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.3
    raw = load_litellm().embedding(model=MINILM, input=texts[:1])
    assert raw.usage.prompt_tokens > 0 and len(raw.data[0]["embedding"]) == 384


def zero_lora(path: Path, rank: int = 4) -> Path:
    """A GGUF LoRA adapter for Gemma 3 whose update is zero (B = 0): loads like a real one."""
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(path), arch="gemma3")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    # blk.0.attn_q.weight maps 640 -> 1024; A is (rank, in), B is (out, rank)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.full((rank, 640), 0.01, dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((1024, rank), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
