"""The provider behind `model: local/...` (the offline default generator and embedder): called
directly by the gateway (`make_direct_provider`), and registered with litellm (`make_provider`).

`make_provider()` runs whenever litellm is loaded, so it only defines a class: llama-cpp-python,
torch and the models are imported and loaded on the first real call. A completion is queued for
the local decode thread and awaited there, holding no worker thread, so many can wait at once
and be decoded together; embeddings run in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.local.catalog import LocalModelError, resolve_model
from harness.local.completion_prompt import call_options, render_prompt


def _submit(messages: list[dict[str, Any]], optional_params: dict) -> Any:
    """Queue a completion (loading the model on first use); returns a Future of its Generation."""
    from harness.local.generator import get_generator

    options = call_options(optional_params)
    return get_generator().submit(render_prompt(messages), options)


def _loaded() -> bool:
    from harness.local.generator import get_generator

    return get_generator().engine is not None


def _embed(texts: Any) -> tuple[list[list[float]], int]:
    from harness.local.embedder import get_embedder

    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list):
        raise LocalModelError(f"embedding input must be a string or a list of strings, got {type(texts).__name__}")
    return get_embedder().embed(texts)


def make_provider() -> Any:
    """Build the litellm handler for the "local" prefix; cheap, nothing is loaded yet."""
    import litellm

    def fill_completion(response: Any, model: str, gen: Any) -> Any:
        response = response if response is not None else litellm.ModelResponse()
        response.choices[0].message.content = gen.text
        response.choices[0].finish_reason = gen.finish_reason
        response.model = f"local/{model}"
        response.usage = litellm.Usage(
            prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens,
            total_tokens=gen.prompt_tokens + gen.completion_tokens,
        )
        return response

    def fill_embedding(response: Any, model: str, vectors: list[list[float]], tokens: int) -> Any:
        response = response if response is not None else litellm.EmbeddingResponse()
        response.data = [{"object": "embedding", "index": i, "embedding": vec} for i, vec in enumerate(vectors)]
        response.model = f"local/{model}"
        response.usage = litellm.Usage(prompt_tokens=tokens, completion_tokens=0, total_tokens=tokens)
        return response

    class LocalLLM(litellm.CustomLLM):
        """`local/gemma-3-270m` (completion) and `local/all-minilm-l6-v2` (embedding).

        `model` may arrive bare (litellm strips the prefix) or whole (the gateway's direct call).
        """

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            name = resolve_model(model, "completion")
            params = kwargs.get("optional_params") or {}
            # once loaded, queueing is quick (tokenising): no worker thread, which embeddings may all hold
            queued = _submit(messages, params) if _loaded() else await asyncio.to_thread(_submit, messages, params)
            gen = await asyncio.wrap_future(queued)
            return fill_completion(kwargs.get("model_response"), name, gen)

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            name = resolve_model(model, "completion")
            gen = _submit(messages, kwargs.get("optional_params") or {}).result()
            return fill_completion(kwargs.get("model_response"), name, gen)

        async def aembedding(self, model: str, input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
            name = resolve_model(model, "embedding")
            vectors, tokens = await asyncio.to_thread(_embed, input)
            return fill_embedding(kwargs.get("model_response"), name, vectors, tokens)

        def embedding(self, model: str, input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
            name = resolve_model(model, "embedding")
            vectors, tokens = _embed(input)
            return fill_embedding(kwargs.get("model_response"), name, vectors, tokens)

    return LocalLLM()


class LocalProvider:
    """The gateway's direct provider for `local/...`: the same work as `LocalLLM` without litellm."""

    async def complete(self, model: str, messages: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from harness.gateway.providers import Completion

        name = resolve_model(model, "completion")
        # as LocalLLM.acompletion: queued for the decode thread, awaited without a worker thread
        queued = _submit(messages, options) if _loaded() else await asyncio.to_thread(_submit, messages, options)
        gen = await asyncio.wrap_future(queued)
        return Completion(gen.text, f"local/{name}", gen.prompt_tokens, gen.completion_tokens, gen.finish_reason)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        resolve_model(model, "embedding")
        vectors, _ = await asyncio.to_thread(_embed, texts)
        return vectors


def make_direct_provider() -> LocalProvider:
    """Cheap, nothing is loaded yet (the model loads on the first call)."""
    return LocalProvider()
