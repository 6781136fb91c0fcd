"""The response cache never answers for a different endpoint or model file, and a reply without an
answer is an error: tested on the hosted path against an OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from harness.gateway import Gateway, ModelCallError, ModelRequest
from harness.gateway.cache import ResponseCache
from harness.gateway.endpoint import file_sha256, resolved_endpoint
from harness.gateway.retry import RetryPolicy
from harness.testing.fake_openai import FakeOpenAI, Reply, chat_completion

FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay_s=0.001, max_delay_s=0.002)
ENDPOINT_VARS = ["OPENAI_BASE_URL", "OPENAI_API_BASE", "AZURE_API_BASE", "AZURE_API_VERSION", "OLLAMA_API_BASE"]


@pytest.fixture(autouse=True)
def clean_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENDPOINT_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-endpoint-key")


def ask(text: str = "capital of France?", model: str = "openai/fake-model", **params: Any) -> ModelRequest:
    return ModelRequest(model=model, messages=[{"role": "user", "content": text}], params=params)


def complete(gateway: Gateway, request: ModelRequest) -> Any:
    return asyncio.run(gateway.complete(request))


@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "OPENAI_API_BASE"])
def test_cache_filled_from_one_server_does_not_answer_for_another(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path), retry=FAST_RETRY)
    with FakeOpenAI(lambda request: "Paris (server A)") as a, FakeOpenAI(lambda request: "Paris (server B)") as b:
        monkeypatch.setenv(variable, a.url)
        assert complete(gateway, ask()).text == "Paris (server A)"
        monkeypatch.setenv(variable, b.url)
        from_b = complete(gateway, ask())
        assert (from_b.text, from_b.cached, len(b.chat_requests())) == ("Paris (server B)", False, 1)
        monkeypatch.setenv(variable, a.url)
        again = complete(gateway, ask())  # A's reply is still on disk, under A's key
        assert (again.text, again.cached, len(a.chat_requests())) == ("Paris (server A)", True, 1)


def test_the_same_address_from_the_suite_or_the_environment_is_one_cache_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path), retry=FAST_RETRY)
    with FakeOpenAI(lambda request: "Paris") as server:
        assert complete(gateway, ask(extra={"api_base": server.url})).cached is False
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
        assert complete(gateway, ask()).cached is True
        assert len(server.chat_requests()) == 1


@pytest.mark.parametrize("model", ["openai/fake-model", "hosted_vllm/fake-model"])
def test_base_url_wins_over_api_base_as_in_litellm_and_keys_the_cache(
    model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """litellm calls `base_url` when a request gives both it and `api_base`: the cache key and
    the run record must name that server, so switching `base_url` is never answered from the
    other server's replies."""
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path), retry=FAST_RETRY)
    with FakeOpenAI(lambda r: "from A") as a, FakeOpenAI(lambda r: "from B") as b, FakeOpenAI(lambda r: "from C") as c:
        first = complete(gateway, ask(model=model, extra={"api_base": a.url, "base_url": b.url}))
        assert (first.text, len(a.chat_requests()), len(b.chat_requests())) == ("from B", 0, 1)
        assert resolved_endpoint(model, {"extra": {"api_base": a.url, "base_url": b.url}})["api_base"] == b.url
        switched = complete(gateway, ask(model=model, extra={"api_base": a.url, "base_url": c.url}))
        assert (switched.text, switched.cached, len(c.chat_requests())) == ("from C", False, 1)
        only_base = complete(gateway, ask(model=model, extra={"base_url": b.url}))
        assert (only_base.text, only_base.cached) == ("from B", True)  # the same server: one entry
        assert len(a.chat_requests()) == 0


def test_key_covers_api_version_model_and_every_parameter_but_not_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_API_BASE", "https://one.openai.azure.com")
    monkeypatch.setenv("AZURE_API_VERSION", "2024-06-01")
    azure = ask(model="azure/my-deployment").cache_key()
    monkeypatch.setenv("AZURE_API_VERSION", "2024-10-21")
    assert ask(model="azure/my-deployment").cache_key() != azure
    assert ask(model="azure/my-deployment", extra={"api_version": "2024-06-01"}).cache_key() == azure
    monkeypatch.setenv("AZURE_API_BASE", "https://two.openai.azure.com")
    assert ask(model="azure/my-deployment", extra={"api_version": "2024-06-01"}).cache_key() != azure

    base = ask().cache_key()
    assert base.startswith("v2:")
    changed = [
        ask(model="openai/other-model"), ask(temperature=0.5), ask(max_tokens=12), ask(top_p=0.9), ask(seed=7),
        ask(stop=["\n"]), ask(extra={"frequency_penalty": 0.5}), ask(extra={"extra_headers": {"X-Route": "b"}}),
    ]  # fmt: skip
    assert len({r.cache_key() for r in changed} | {base}) == len(changed) + 1
    # who pays is not what answers: a rotated key still finds its replies
    assert ask(extra={"api_key": "sk-one"}).cache_key() == ask(extra={"api_key": "sk-two"}).cache_key() == base
    monkeypatch.setenv("OPENAI_API_KEY", "sk-rotated")
    assert ask().cache_key() == base
    # a setting that steers the provider, unknown to the endpoint table, still separates keys
    monkeypatch.setenv("OPENAI_ORGANIZATION", "org-b")
    assert ask().cache_key() != base


def test_resolved_endpoint_for_the_run_record_never_holds_a_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-record-0001")
    assert resolved_endpoint("openai/gpt-4o-mini") == {"provider": "openai", "api_base": "https://api.openai.com/v1", "api_version": None}
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy.internal:8080/v1/")
    assert resolved_endpoint("gpt-4o-mini")["api_base"] == "http://proxy.internal:8080/v1"
    record = resolved_endpoint(
        "openai/gpt-4o-mini", {"extra": {"api_base": "https://user:hunter2-password@gw.example/v1?api-key=sk-canary-query&region=eu", "api_key": "sk-canary-param-0002"}}
    )
    assert record["api_base"] == "https://user:***@gw.example/v1?api-key=***&region=eu"
    assert "canary" not in json.dumps(record) and "hunter2" not in json.dumps(record)
    monkeypatch.setenv("AZURE_API_BASE", "https://one.openai.azure.com")
    monkeypatch.setenv("AZURE_API_VERSION", "2024-06-01")
    assert resolved_endpoint("azure/dep") == {"provider": "azure", "api_base": "https://one.openai.azure.com", "api_version": "2024-06-01"}
    monkeypatch.setenv("OLLAMA_API_BASE", "http://gpu-box:11434")
    assert resolved_endpoint("ollama/llama3")["api_base"] == "http://gpu-box:11434"
    assert resolved_endpoint("scripted/echo") == {"provider": "scripted"}


def test_local_model_key_holds_the_model_file_and_lora_hashes(tmp_path: Path) -> None:
    from harness.local.model_file import GEMMA_SHA256

    assert resolved_endpoint("local/gemma-3-270m")["model_sha256"] == GEMMA_SHA256
    lora = tmp_path / "a" / "lora.gguf"
    lora.parent.mkdir()
    lora.write_bytes(b"weights one")
    first = ask(model="local/gemma-3-270m", extra={"lora_path": str(lora)})
    key = first.cache_key()
    assert resolved_endpoint("local/gemma-3-270m", first.params)["lora_sha256"] == hashlib.sha256(b"weights one").hexdigest()
    moved = tmp_path / "b.gguf"
    moved.write_bytes(b"weights one")
    assert ask(model="local/gemma-3-270m", extra={"lora_path": str(moved)}).cache_key() == key  # same file, other place
    nested = ask(model="local/gemma-3-270m", extra={"extra_body": {"lora_path": str(moved)}})
    assert resolved_endpoint(nested.model, nested.params)["lora_sha256"] == hashlib.sha256(b"weights one").hexdigest()
    lora.write_bytes(b"weights two, re-trained in place")
    assert ask(model="local/gemma-3-270m", extra={"lora_path": str(lora)}).cache_key() != key
    assert ask(model="local/gemma-3-270m").cache_key() != key  # the base model alone


def test_file_hash_is_computed_once_per_path_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = hashlib.file_digest

    def counting(handle: Any, digest: str) -> Any:
        calls.append(handle.name)
        return real(handle, digest)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    path = tmp_path / "lora.gguf"
    path.write_bytes(b"x" * 1000)
    assert file_sha256(path) == file_sha256(path) == hashlib.sha256(b"x" * 1000).hexdigest()
    assert len(calls) == 1
    path.write_bytes(b"y" * 1001)
    assert file_sha256(path) == hashlib.sha256(b"y" * 1001).hexdigest() and len(calls) == 2
    assert file_sha256(tmp_path / "absent.gguf").startswith("missing:")


def test_embeddings_are_keyed_by_endpoint_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path))
    with FakeOpenAI() as a, FakeOpenAI() as b:
        monkeypatch.setenv("OPENAI_BASE_URL", a.url)
        asyncio.run(gateway.embed("openai/text-embedding-3-small", ["one", "two"]))
        monkeypatch.setenv("OPENAI_BASE_URL", b.url)
        asyncio.run(gateway.embed("openai/text-embedding-3-small", ["one", "two"]))
        assert len(b.requests) == 1
        monkeypatch.setenv("OPENAI_BASE_URL", a.url)
        asyncio.run(gateway.embed("openai/text-embedding-3-small", ["one", "two"]))
        assert len(a.requests) == 1


def broken(request: Any, n: int) -> Reply | str | None:
    prompt = request.prompt
    if prompt == "null":
        return None
    if prompt == "blank":
        return "   "
    if prompt == "no choices":
        return Reply(body={**chat_completion("x"), "choices": []})
    if prompt == "error body":
        return Reply(body={"error": {"message": "model overloaded, try later"}})
    if prompt == "cut off":
        body = chat_completion(None)
        body["choices"][0]["finish_reason"] = "length"
        return Reply(body=body)
    if prompt == "refused":
        body = chat_completion(None)
        body["choices"][0]["message"]["refusal"] = "I can't help with that."
        return Reply(body=body)
    return "fine"


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("null", "content is null (finish_reason=stop)"),
        ("blank", "content is empty (finish_reason=stop)"),
        ("no choices", "the reply has no choices"),
        ("error body", "model overloaded, try later"),
        ("cut off", "max_tokens=256 ran out before any text"),
        ("refused", "the model refused: I can't help with that."),
    ],
)
def test_a_reply_without_an_answer_is_an_error_with_its_reason(
    prompt: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway(cache=ResponseCache.in_dir(tmp_path), retry=FAST_RETRY)
    with FakeOpenAI(broken) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        with pytest.raises(ModelCallError) as caught:
            complete(gateway, ask(prompt))
        assert reason in str(caught.value) and "IndexError" not in str(caught.value)
        assert len(server.chat_requests()) == 1  # not retried: the same request gets the same reply
        assert len(ResponseCache.in_dir(tmp_path)) == 0  # and never cached
        assert complete(gateway, ask("fine")).text == "fine"


def test_a_failed_reply_becomes_an_error_sample_not_a_wrong_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.engine.runner import respond_safely

    class OneCall:
        def __init__(self, gateway: Gateway):
            self.gateway = gateway

        async def respond(self, example: Any) -> Any:
            from harness.types import Response

            reply = await self.gateway.complete(ask(example))
            return Response(text=reply.text)

    with FakeOpenAI(broken) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        response = asyncio.run(respond_safely(OneCall(Gateway(retry=FAST_RETRY)), "no choices"))
    assert response.error is not None and "EmptyReplyError: the reply has no choices" in response.error


def test_a_reply_that_echoes_the_key_is_returned_and_cached_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-echoed-in-content-01")
    with FakeOpenAI(lambda request: f"your key is {request.headers['authorization']}") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        reply = complete(Gateway(cache=ResponseCache.in_dir(tmp_path)), ask())
    assert reply.text == "your key is Bearer ***"
    assert b"sk-canary-echoed" not in b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
