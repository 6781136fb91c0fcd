"""Local provider logic that needs no model: prompt rendering, stops, grammar keys, errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from harness.gateway import Gateway, ModelCallError, ModelRequest
from harness.local.catalog import LocalModelError, resolve_model
from harness.local.completion_prompt import (
    DEFAULT_STOPS,
    OutputFormat,
    call_options,
    ends_with_answer_cue,
    output_format,
    render_prompt,
    resolve_stops,
    schema_key,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_user_text_is_kept_as_is_without_trailing_space() -> None:
    prompt = "Context: Paris is in France.\nQuestion: Where is Paris?\nAnswer: "
    assert render_prompt([{"role": "user", "content": prompt}]) == prompt.rstrip(" ")
    assert render_prompt([{"role": "user", "content": "Tell me a story"}]) == "Tell me a story"


def test_system_text_comes_first_then_user() -> None:
    messages = [{"role": "user", "content": "Question: 2+2?\nAnswer:"}, {"role": "system", "content": "Be brief.\n"}]
    assert render_prompt(messages) == "Be brief.\n\nQuestion: 2+2?\nAnswer:"


def test_few_shot_assistant_turns_continue_the_cue_line() -> None:
    messages = [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "Question: 1+1?\nAnswer:"},
        {"role": "assistant", "content": " 2 "},
        {"role": "user", "content": [{"type": "text", "text": "Question: 2+3?\nAnswer:"}, {"type": "image_url"}]},
    ]
    assert render_prompt(messages) == "Answer with a number.\n\nQuestion: 1+1?\nAnswer: 2\n\nQuestion: 2+3?\nAnswer:"


def test_answer_cue_detection() -> None:
    assert ends_with_answer_cue("Question: x\nAnswer:")
    assert ends_with_answer_cue("JSON: ")
    assert not ends_with_answer_cue("What is the capital of France?")
    assert not ends_with_answer_cue("see http://")


def test_stops_add_defaults_after_the_request_stops() -> None:
    assert resolve_stops(None, structured=False) == list(DEFAULT_STOPS)
    assert resolve_stops("END", structured=False) == ["END", *DEFAULT_STOPS]
    assert resolve_stops(["\n\n", "X"], structured=False) == ["\n\n", "X", "\nQuestion:"]


def test_default_stops_can_be_replaced_or_turned_off() -> None:
    assert resolve_stops(["X"], structured=False, default_stop=["\n"]) == ["X", "\n"]
    assert resolve_stops(None, structured=False, default_stop=[]) == []
    assert call_options({"default_stop": "###"}).stop == ("###",)


def test_structured_output_drops_the_default_stops_but_keeps_requested_ones() -> None:
    assert resolve_stops(["}\n"], structured=True) == ["}\n"]
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}}
    options = call_options({"response_format": fmt, "max_tokens": 64, "temperature": 0, "seed": 7})
    assert options.stop == () and options.output == OutputFormat(True, SCHEMA)
    assert (options.max_tokens, options.temperature, options.seed) == (64, 0.0, 7)


def test_response_format_variants() -> None:
    assert output_format(None) == OutputFormat()
    assert output_format({"type": "text"}) == OutputFormat()
    assert output_format({"type": "json_object"}) == OutputFormat(True, None)
    assert output_format({"type": "json_object", "schema": SCHEMA}) == OutputFormat(True, SCHEMA)
    with pytest.raises(LocalModelError, match="unsupported response_format type"):
        output_format({"type": "xml"})
    with pytest.raises(LocalModelError, match="must be an object"):
        output_format({"type": "json_schema", "json_schema": {"schema": "not a schema"}})


def test_grammar_cache_key_ignores_key_order_and_tells_schemas_apart() -> None:
    reordered = {"required": ["answer"], "properties": {"answer": {"type": "string"}}, "type": "object"}
    other = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    assert schema_key(OutputFormat()) is None
    assert schema_key(OutputFormat(True, None)) == "json"
    assert schema_key(OutputFormat(True, SCHEMA)) == schema_key(OutputFormat(True, reordered))
    assert schema_key(OutputFormat(True, SCHEMA)) != schema_key(OutputFormat(True, other))


def test_defaults_and_lora_path_from_top_level_or_extra_body() -> None:
    plain = call_options({})
    assert (plain.temperature, plain.seed, plain.lora_path, plain.stop) == (0.0, 0, None, DEFAULT_STOPS)
    assert call_options({"lora_path": "/a.gguf", "max_retries": 0}).lora_path == "/a.gguf"
    assert call_options({"extra_body": {"lora_path": "/b.gguf", "lora_scale": 0.5}}).lora_scale == 0.5
    assert call_options({"extra_body": {"lora_path": "/b.gguf"}}).lora_path == "/b.gguf"


def test_unknown_model_error_lists_the_known_models() -> None:
    assert resolve_model("local/gemma-3-270m", "completion") == "gemma-3-270m"
    with pytest.raises(LocalModelError, match=r"local/all-minilm-l6-v2 \(embedding\), local/gemma-3-270m \(completion\)"):
        resolve_model("gpt-5", "completion")
    with pytest.raises(LocalModelError, match="Gateway.embed"):
        resolve_model("all-minilm-l6-v2", "completion")


def test_unknown_model_through_the_gateway_fails_once_without_retries() -> None:
    # LocalModelError has status_code 400, which the gateway's retry policy treats as final
    with pytest.raises(ModelCallError, match="known local models: local/all-minilm-l6-v2") as caught:
        asyncio.run(Gateway().complete(ModelRequest(model="local/nope", messages=[{"role": "user", "content": "x"}])))
    assert "attempts" not in str(caught.value)


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.local.embedder import MiniLM
    from harness.local.generator import import_llama_cpp

    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(LocalModelError, match=r"pip install -e '\.\[local\]'"):
        import_llama_cpp()
    with pytest.raises(LocalModelError, match=r"pip install -e '\.\[local\]'"):
        MiniLM().embed(["x"])


def test_model_file_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    from harness.local.model_file import verify

    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not the model")
    with pytest.raises(LocalModelError, match="SHA-256 .* expected a5fd3b62"):
        verify(fake)


def test_registering_the_provider_loads_no_model_library() -> None:
    code = (
        "import sys; from harness.gateway.providers import load_litellm; load_litellm(); "
        "print(sorted(m for m in ('llama_cpp', 'torch', 'sentence_transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_lora_key_follows_the_adapter_file(tmp_path: Path) -> None:
    import os

    from harness.local.generator import lora_key

    adapter = tmp_path / "lora.gguf"
    with pytest.raises(LocalModelError, match="LoRA adapter not found"):
        lora_key(str(adapter), 1.0)
    adapter.write_bytes(b"v1")
    first = lora_key(str(adapter), 1.0)
    os.utime(adapter, ns=(1, 1))  # retrained in place: same path, new file
    assert lora_key(str(adapter), 1.0) != first
    assert lora_key(None, 1.0) == lora_key(None, 0.5)
