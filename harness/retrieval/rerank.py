"""Optional second-stage re-ranking through litellm's rerank API (Cohere, Jina, Voyage, ...)."""

from __future__ import annotations

from typing import Awaitable, Callable

RerankFn = Callable[[str, list[str], int], Awaitable[list[tuple[int, float]]]]
"""(query, candidate texts, top_n) -> (candidate index, relevance score), best first."""


def litellm_reranker(model: str) -> RerankFn:
    async def rerank(query: str, texts: list[str], top_n: int) -> list[tuple[int, float]]:
        from harness.gateway.providers import load_litellm

        litellm = load_litellm()
        result = await litellm.arerank(model=model, query=query, documents=texts, top_n=top_n)
        rows = result.results if hasattr(result, "results") else result["results"]
        pairs = [(int(_get(r, "index")), float(_get(r, "relevance_score"))) for r in rows]
        return sorted(pairs, key=lambda p: -p[1])[:top_n]

    return rerank


def _get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)
