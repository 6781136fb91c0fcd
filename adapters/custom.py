"""`kind: custom` - the user's own system: a Python callable or an HTTP endpoint.

A callable gets the Example and returns a string, a dict (`text`/`answer`, `retrieved_doc_ids`,
`contexts`, `declined`) or a Response. An endpoint gets a JSON POST and the config says which
response fields hold the answer and the retrieved ids. Retrieved documents are ids best first or
`{id, score}` objects, ranked by score as trec_eval ranks a run (harness.ranking); a `null`
answer is a decline, recorded as `metadata["declined"]` for the abstention metrics.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import re
import sys
import time
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.errors import ConfigError
from harness.gateway.retry import RetryPolicy, call_with_retries
from harness.metrics.extract import get_path, parse_json
from harness.ranking import RankingTally, parse_ranking
from harness.secrets.sources import register_config_secrets
from harness.secrets.redact import redact_url
from harness.secrets.scrub import scrub
from harness.systems import System, SystemConfig, SystemContext, system_kind
from harness.runtime.thread_pool import TimedThreadPool
from harness.types import Example, Response, Timings

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


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
    timeout_s: float | None = Field(None, gt=0, description="Per attempt; None: settings.timeout_s.")
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
    module_name, _, func_name = target.partition(":")
    if not _MODULE.match(module_name) or not func_name.isidentifier():
        raise ConfigError(
            f"expected 'module:function' (a module in the suite folder or installed, e.g. my_system:answer), got {target!r}",
            where=where,
        )
    if search_dir not in sys.path:
        sys.path.insert(0, search_dir)
    try:
        module = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - the user's module may fail in any way, sys.exit() included
        raise ConfigError(f"cannot import module {module_name!r}: {type(error).__name__}: {error}", where=where) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError(f"module {module_name!r} has no function {func_name!r}", where=where)
    return func


def to_response(value: Any, tally: RankingTally | None = None) -> Response:
    """What a custom system returned -> a Response. `tally` counts re-sorted and repeated rankings."""
    if isinstance(value, Response):
        return value
    if isinstance(value, str):
        return Response(text=value, usage=None, cost_usd=None)
    if isinstance(value, dict):
        key = "text" if "text" in value else "answer"
        answer = value.get(key)
        text = answer if isinstance(answer, str) else "" if answer is None else json.dumps(answer, ensure_ascii=False)
        response = Response(text=text, usage=None, cost_usd=value.get("cost_usd"))
        declined = value.get("declined")
        if declined:
            response.metadata["declined"] = declined if isinstance(declined, str) else "system"
        elif key in value and answer is None:
            response.metadata["declined"] = f"{key} is null"
        if value.get("retrieved_doc_ids") is not None:
            try:
                ranking = parse_ranking(value["retrieved_doc_ids"], value.get("contexts") or [])
            except ValueError as error:
                raise ValueError(f"retrieved_doc_ids: {error}") from None
            if tally is not None:
                tally.add(ranking)
            response.retrieved = ranking.chunks()
            response.metadata["ranking"] = ranking.record()
        return response
    raise TypeError(f"custom system returned {type(value).__name__}; expected str, dict or Response")


class FunctionSystem(System):
    """A Python callable. Each call is bounded by `settings.timeout_s`. A sync function runs in
    a pool of `settings.concurrency` threads of its own (harness.runtime.thread_pool), so a slow function
    holds back only its own system's calls; its latency is measured inside its thread."""

    def __init__(self, config: CustomConfig, context: SystemContext):
        self.func = import_callable(config.function or "", context.where("function"), str(context.base_dir))
        self.options = config.options
        self.context = context
        self.timeout_s = context.suite.settings.timeout_s
        self.pool = TimedThreadPool(context.suite.settings.concurrency, name=f"harness-{context.name}")
        self.tally = RankingTally(where=context.where(), log_first=True)

    @property
    def warnings(self) -> list[str]:
        return self.tally.warnings() + self._stuck_warning()

    def _stuck_warning(self) -> list[str]:
        pool = self.pool
        if not pool.timed_out:
            return []
        calls = f"{pool.timed_out} call{'s' if pool.timed_out != 1 else ''}"
        return [(
            f"{self.context.where('function')}: {calls} timed out after {self.timeout_s:g} s (settings.timeout_s); "
            f"{pool.stuck} of their threads still running at the end (Python cannot stop a thread; "
            "they end when the function returns or the process exits)"
        )]

    async def respond(self, example: Example) -> Response:
        if inspect.iscoroutinefunction(self.func):
            started = time.perf_counter()
            limit = asyncio.timeout(self.timeout_s)
            try:
                async with limit:
                    value = await self.func(example, **self.options)
            except TimeoutError:
                if not limit.expired():
                    raise  # the function's own
                raise TimeoutError(f"timed out: did not return within {self.timeout_s:g} s") from None
            except (SystemExit, GeneratorExit) as error:  # the user's code must not end the run
                raise RuntimeError(f"the function raised {type(error).__name__}: {error}") from None
            ran_s = time.perf_counter() - started
        else:
            value, ran_s = await self.pool.run(self.func, (example,), self.options, timeout_s=self.timeout_s)
        response = to_response(value, self.tally)
        if "total_s" not in response.timings.model_fields_set:
            response.timings.total_s = ran_s
        if response.parsed is None and self.context.suite.answer_format:
            response.parsed = parse_json(response.text)[0]
        return response


class EndpointSystem(System):
    """An HTTP endpoint, called through the gateway's retry loop (harness.gateway.retry): each
    attempt bounded by `endpoint.timeout_s` (default `settings.timeout_s`), `endpoint.concurrency`
    requests at a time."""

    def __init__(self, config: CustomConfig, context: SystemContext):
        assert config.endpoint is not None
        self.endpoint = config.endpoint
        self.context = context
        self.retry: RetryPolicy = context.suite.settings.retry
        self.timeout_s = self.endpoint.timeout_s or context.suite.settings.timeout_s
        # credential headers (and their tokens) and the URL's password and key query values:
        # the scrubber keeps them out of errors and logs; the URL is recorded without them
        register_config_secrets({"url": self.endpoint.url, "headers": self.endpoint.headers})
        self.recorded_url = redact_url(self.endpoint.url)
        self._semaphore = asyncio.Semaphore(self.endpoint.concurrency)
        self._client: Any = None
        self.tally = RankingTally(where=context.where(), log_first=True)

    @property
    def warnings(self) -> list[str]:
        return self.tally.warnings()

    def _body(self, example: Example) -> dict[str, Any]:
        data = example.model_dump()
        return {key: get_path(data, path) for key, path in self.endpoint.body.items()}

    async def _post(self, example: Example) -> Any:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        reply = await self._client.post(self.endpoint.url, json=self._body(example), headers=dict(self.endpoint.headers))
        if reply.status_code >= 400:
            body = scrub(reply.text)[:200]  # scrubbed before the cut, so no half-secret survives
            error = httpx.HTTPStatusError(f"HTTP {reply.status_code}: {body}", request=reply.request, response=reply)
            error.status_code = reply.status_code  # type: ignore[attr-defined]
            raise error
        try:
            return reply.json()
        except ValueError:
            raise ValueError(f"endpoint reply is not JSON: {scrub(reply.text)[:200]!r}") from None

    async def respond(self, example: Example) -> Response:
        done = await call_with_retries(
            lambda: self._post(example), what=self.recorded_url, policy=self.retry, timeout_s=self.timeout_s,
            slot=self._semaphore,
        )  # fmt: skip
        response = self._to_response(done.value, done.latency_s)
        response.attempts = done.attempts
        return response

    def _to_response(self, data: Any, latency: float) -> Response:
        answer = get_path(data, self.endpoint.answer_field)
        if answer is None and not has_path(data, self.endpoint.answer_field):
            raise KeyError(f"endpoint reply has no field {self.endpoint.answer_field!r}")
        text = answer if isinstance(answer, str) or answer is None else json.dumps(answer, ensure_ascii=False)
        value: dict[str, Any] = {"text": text}
        if answer is None:
            value["declined"] = f"{self.endpoint.answer_field} is null"
        if self.endpoint.retrieved_ids_field:
            value["retrieved_doc_ids"] = get_path(data, self.endpoint.retrieved_ids_field) or []
        if self.endpoint.contexts_field:
            value["contexts"] = get_path(data, self.endpoint.contexts_field) or []
        response = to_response(value, self.tally)
        response.timings = Timings(total_s=latency)
        response.model = self.recorded_url
        response.cost_usd = None
        if self.context.suite.answer_format:
            response.parsed = parse_json(response.text)[0]
        return response


def has_path(value: Any, path: str) -> bool:
    """Whether `path` exists in `value`, even when what it holds is null."""
    *parents, last = path.split(".")
    container = get_path(value, ".".join(parents)) if parents else value
    if isinstance(container, dict):
        return last in container
    return isinstance(container, list) and last.isdigit() and int(last) < len(container)


def build_custom(config: CustomConfig, context: SystemContext) -> FunctionSystem | EndpointSystem:
    return FunctionSystem(config, context) if config.function else EndpointSystem(config, context)


system_kind("custom", CustomConfig)(build_custom)
