"""`kind: custom` - the user's own system: a Python callable or an HTTP endpoint.

A callable gets the Example and returns a string, a dict (`text`/`answer`, `retrieved_doc_ids`,
`contexts`) or a Response. An endpoint gets a JSON POST and the config says which response
fields hold the answer and the retrieved ids.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
import time
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.errors import ConfigError
from harness.gateway.retry import RetryPolicy, is_transient
from harness.metrics.extract import get_path, parse_json
from harness.secrets import register_config_secrets, scrub
from harness.systems import SystemConfig, SystemContext, system_kind
from harness.types import Example, Response, RetrievedChunk, Timings


class EndpointConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict, description="${VAR} is read from the environment when the suite loads.")
    body: dict[str, str] = Field(
        default_factory=lambda: {"id": "id", "input": "input"},
        description="Request JSON: key -> Example field (id, input, metadata.<column>).",
    )
    answer_field: str = "answer"
    retrieved_ids_field: str | None = None
    contexts_field: str | None = None
    timeout_s: float = Field(60.0, gt=0)
    concurrency: int = Field(8, gt=0)


class CustomConfig(SystemConfig):
    kind: Literal["custom"]
    function: str | None = Field(None, description="'module:function', sync or async.")
    endpoint: EndpointConfig | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Passed to the function as keywords.")

    @model_validator(mode="after")
    def _one_target(self) -> "CustomConfig":
        if (self.function is None) == (self.endpoint is None):
            raise ValueError("give exactly one of function or endpoint")
        return self


def import_callable(target: str, where: str, search_dir: str) -> Callable[..., Any]:
    if ":" not in target:
        raise ConfigError(f"expected 'module:function', got {target!r}", where=where)
    module_name, func_name = target.split(":", 1)
    if search_dir not in sys.path:
        sys.path.insert(0, search_dir)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"cannot import module {module_name!r}: {error}", where=where) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError(f"module {module_name!r} has no function {func_name!r}", where=where)
    return func


def to_response(value: Any) -> Response:
    if isinstance(value, Response):
        return value
    if isinstance(value, str):
        return Response(text=value, usage=None, cost_usd=None)
    if isinstance(value, dict):
        text = value.get("text", value.get("answer", ""))
        text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
        ids = value.get("retrieved_doc_ids")
        contexts = value.get("contexts") or []
        retrieved = None
        if ids is not None:
            retrieved = [
                RetrievedChunk(chunk_id=str(i), doc_id=str(i), rank=n, text=contexts[n - 1] if n <= len(contexts) else "")
                for n, i in enumerate(ids, 1)
            ]
        return Response(text=text, retrieved=retrieved, usage=None, cost_usd=value.get("cost_usd"))
    raise TypeError(f"custom system returned {type(value).__name__}; expected str, dict or Response")


class FunctionSystem:
    def __init__(self, config: CustomConfig, context: SystemContext):
        self.func = import_callable(config.function or "", context.where("function"), str(context.base_dir))
        self.options = config.options
        self.context = context

    async def respond(self, example: Example) -> Response:
        started = time.perf_counter()
        if inspect.iscoroutinefunction(self.func):
            value = await self.func(example, **self.options)
        else:
            value = await asyncio.to_thread(self.func, example, **self.options)
        response = to_response(value)
        if response.timings.total_s == 0:
            response.timings = Timings(total_s=time.perf_counter() - started)
        if response.parsed is None and self.context.suite.answer_format:
            response.parsed = parse_json(response.text)[0]
        return response


class EndpointSystem:
    def __init__(self, config: CustomConfig, context: SystemContext):
        assert config.endpoint is not None
        self.endpoint = config.endpoint
        self.context = context
        self.retry: RetryPolicy = context.suite.settings.retry
        # `${VAR}` in the headers was expanded when the suite was loaded (harness.suite.env_vars);
        # the values are credentials, so the scrubber keeps them out of errors and logs
        register_config_secrets({"headers": self.endpoint.headers})
        self._semaphore = asyncio.Semaphore(self.endpoint.concurrency)
        self._client: Any = None

    def _body(self, example: Example) -> dict[str, Any]:
        data = example.model_dump()
        return {key: get_path(data, path) for key, path in self.endpoint.body.items()}

    async def respond(self, example: Example) -> Response:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.endpoint.timeout_s)
        headers = dict(self.endpoint.headers)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._semaphore:
                    started = time.perf_counter()
                    reply = await self._client.post(self.endpoint.url, json=self._body(example), headers=headers)
                    latency = time.perf_counter() - started
                if reply.status_code >= 400:
                    body = scrub(reply.text)[:200]  # scrubbed before the cut, so no half-secret survives
                    error = httpx.HTTPStatusError(f"HTTP {reply.status_code}: {body}", request=reply.request, response=reply)
                    error.status_code = reply.status_code  # type: ignore[attr-defined]
                    raise error
                break
            except Exception as error:  # noqa: BLE001
                transient = is_transient(error) or isinstance(error, (httpx.TransportError,))
                if not transient or attempt >= self.retry.max_attempts:
                    raise
                await asyncio.sleep(self.retry.delay(attempt))
        return self._to_response(reply.json(), latency)

    def _to_response(self, data: Any, latency: float) -> Response:
        answer = get_path(data, self.endpoint.answer_field)
        if answer is None:
            raise KeyError(f"endpoint reply has no field {self.endpoint.answer_field!r}")
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        value: dict[str, Any] = {"text": text}
        if self.endpoint.retrieved_ids_field:
            value["retrieved_doc_ids"] = get_path(data, self.endpoint.retrieved_ids_field) or []
        if self.endpoint.contexts_field:
            value["contexts"] = get_path(data, self.endpoint.contexts_field) or []
        response = to_response(value)
        response.timings = Timings(total_s=latency)
        response.model = self.endpoint.url
        response.cost_usd = None
        if self.context.suite.answer_format:
            response.parsed = parse_json(text)[0]
        return response


def build_custom(config: CustomConfig, context: SystemContext) -> FunctionSystem | EndpointSystem:
    return FunctionSystem(config, context) if config.function else EndpointSystem(config, context)


system_kind("custom", CustomConfig)(build_custom)
