"""The LLM judge: ragas 0.4.3's collections metrics (Faithfulness, FactualCorrectness), their
prompts and arithmetic, driven through our Gateway instead of ragas' own litellm client.

ragas calls `llm.agenerate(prompt, OutputModel)`; our bridge sends the prompt through
`Gateway.complete` (timeouts, transient retries, concurrency limits), parses and validates the
JSON reply (re-asking with the error when it does not parse), caches only valid replies, and
writes every request and reply to the audit trail. Failures become `error` scores with the
reason; an empty statement list becomes `undefined` ("no claims"); NaN never leaves this module.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.gateway import GenerationParams, ModelCallError, ModelRequest
from harness.gateway.providers import is_in_process, load_litellm_off_loop
from harness.metrics.base import MetricContext, finite_or_error
from harness.metrics.extract import find_json_object
from harness.metrics.faithfulness.audit import AuditTrail, audit_for
from harness.runtime.offloop import once_off_loop
from harness.types import Score

# ragas sends usage telemetry unless told not to; set before ragas is first imported (lazily).
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")

REASK = (
    "Your reply could not be used: {error}\n"
    "Reply again with only one JSON object that follows the schema given above, and nothing else."
)


class JudgeReplyError(Exception):
    """The judge answered, but not with JSON of the requested shape (after re-asks)."""


async def load_ragas() -> Any:
    """`ragas.metrics.collections`, imported (seconds, the first time) off the event loop, which
    times every sample in flight; the bridge class too."""
    return await once_off_loop("ragas", _load_ragas)


def _load_ragas() -> Any:
    import ragas.metrics.collections

    _ragas_llm_class()
    return ragas.metrics.collections


@lru_cache(maxsize=1)
def _ragas_version() -> str:
    """Read once: looking a distribution up scans every folder on sys.path, on each judge call."""
    return f"ragas-{version('ragas')}"


@lru_cache(maxsize=1)
def _ragas_llm_class() -> type:
    from ragas.llms.base import InstructorBaseRagasLLM

    class GatewayRagasLLM(InstructorBaseRagasLLM):
        """One per scored sample, so its `calls` log belongs to that sample."""

        def __init__(self, judge: "LLMJudge"):
            self.judge = judge
            self.calls: list[dict[str, Any]] = []

        async def agenerate(self, prompt: str, response_model: type[BaseModel]) -> BaseModel:
            return await self.judge.structured(prompt, response_model, self.calls)

        def generate(self, prompt: str, response_model: type[BaseModel]) -> BaseModel:
            raise NotImplementedError("the harness judge is async only")

    return GatewayRagasLLM


class LLMJudge:
    def __init__(
        self,
        gateway: Any,
        model: str,
        params: GenerationParams | None = None,
        audit: AuditTrail | None = None,
        cache: Any = None,
        max_reasks: int = 2,
    ):
        self.gateway = gateway
        self.model = model
        self.params = params or GenerationParams(max_tokens=4096)
        self.audit = audit or AuditTrail(None)
        self.cache = cache
        self.max_reasks = max_reasks

    @classmethod
    def from_context(cls, context: MetricContext, model: str) -> "LLMJudge":
        from harness.gateway.cache import ResponseCache

        suite_judge = getattr(context.suite, "judge", None)
        params = suite_judge.params if suite_judge is not None else None
        cache = None
        if context.gateway.cache is not None and context.extras.get("judge_cache", True):
            cache = ResponseCache(context.cache_dir / "judge" / "judge_cache.sqlite")
        return cls(context.gateway, model, params, audit_for(context), cache)

    @property
    def version(self) -> str:
        return _ragas_version()

    async def structured(self, prompt: str, response_model: type[BaseModel], calls: list[dict[str, Any]]) -> BaseModel:
        """One judge step: a prompt in, a validated `response_model` out (or JudgeReplyError)."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        step = response_model.__name__
        errors: list[str] = []
        if not is_in_process(self.model):
            await load_litellm_off_loop()  # the cache key names the endpoint, resolved the way litellm routes
        for attempt in range(1, self.max_reasks + 2):
            request = ModelRequest(model=self.model, messages=messages, params=self.params)
            key = request.cache_key()
            cached = self.cache.get(key) if self.cache is not None else None
            reply = cached or await self.gateway.complete(request, use_cache=False)
            parsed, error = self._parse(reply.text, response_model, reply.usage.output_tokens)
            call_id = self.audit.record(
                judge=self.model, version=self.version, step=step, attempt=attempt, request_key=key,
                prompt=messages[-1]["content"], messages=len(messages), reply=reply.text,
                cached=cached is not None, ok=parsed is not None, error=error,
                usage=reply.usage.model_dump(), latency_s=reply.latency_s,
            )  # fmt: skip
            calls.append(
                {
                    "call_id": call_id, "step": step, "attempt": attempt, "cached": cached is not None,
                    "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest()[:16],
                    "reply": reply.text[:2000], "error": error,
                    "parsed": parsed.model_dump() if parsed is not None else None,
                }
            )  # fmt: skip
            if error:
                errors.append(error)
            if parsed is not None:
                if self.cache is not None and cached is None:
                    self.cache.put(key, reply)
                return parsed
            messages = messages + [
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": REASK.format(error=error)},
            ]
        problems = "; then ".join(dict.fromkeys(errors))
        raise JudgeReplyError(f"judge reply unusable for {step} after {self.max_reasks + 1} attempts: {problems}")

    def _parse(self, text: str, model: type[BaseModel], output_tokens: int) -> tuple[BaseModel | None, str | None]:
        value, how = find_json_object(text)
        if how is None:
            try:
                json.loads(text)
                problem = "not JSON"
            except json.JSONDecodeError as decode_error:
                problem = f"not valid JSON ({decode_error.msg} at char {decode_error.pos})"
                if _unclosed(text) or output_tokens >= self.params.max_tokens:
                    problem += "; the reply looks truncated (raise judge.params.max_tokens)"
            return None, problem
        try:
            return model.model_validate(value), None
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(root)"
            return None, f"JSON does not match {model.__name__}: {where}: {first['msg']}"

    def _detail(self, calls: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "judge": "llm",
            "judge_id": self.model,
            "judge_version": self.version,
            "audit_file": str(self.audit.path) if self.audit.path else None,
            "calls": calls,
            **extra,
        }

    async def faithfulness(self, name: str, question: str, answer: str, contexts: list[str]) -> Score:
        collections = await load_ragas()
        llm = _ragas_llm_class()(self)
        try:
            result = await collections.Faithfulness(llm=llm).ascore(
                user_input=question, response=answer, retrieved_contexts=contexts
            )
        except Exception as error:  # noqa: BLE001 - every judge failure becomes this score's error
            return Score.failed(name, _failure(error), **self._detail(llm.calls))
        statements = _outputs(llm.calls, "StatementGeneratorOutput", "statements")
        verdicts = _outputs(llm.calls, "NLIStatementOutput", "statements")
        detail = self._detail(llm.calls, statements=statements, verdicts=verdicts)
        if not statements:
            return Score.undefined(name, "no claims", **detail)
        if len(verdicts) != len(statements):
            return Score.failed(name, f"judge gave {len(verdicts)} verdicts for {len(statements)} statements", **detail)
        return finite_or_error(name, result.value, **detail)

    async def factual_correctness(self, name: str, question: str, answer: str, reference: str, mode: str) -> Score:
        if not answer.strip():
            return Score.undefined(name, "no claims", judge="llm", judge_id=self.model)
        collections = await load_ragas()
        llm = _ragas_llm_class()(self)
        try:
            result = await collections.FactualCorrectness(llm=llm, mode=mode).ascore(response=answer, reference=reference)
        except Exception as error:  # noqa: BLE001
            return Score.failed(name, _failure(error), **self._detail(llm.calls))
        decomposed = [c["parsed"]["claims"] for c in llm.calls if c["step"] == "ClaimDecompositionOutput" and c["parsed"]]
        detail = self._detail(llm.calls, answer_claims=decomposed[0] if decomposed else [])
        if not decomposed or not decomposed[0]:
            return Score.undefined(name, "no claims", **detail)
        return finite_or_error(name, result.value, **detail)


def _unclosed(text: str) -> bool:
    """True when a JSON-looking reply ends inside a string or with brackets still open."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text[min(starts) :]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def _outputs(calls: list[dict[str, Any]], step: str, field: str) -> list[Any]:
    found = [c["parsed"][field] for c in calls if c["step"] == step and c["parsed"] is not None]
    return found[-1] if found else []


def _failure(error: Exception) -> str:
    if isinstance(error, ModelCallError):
        return f"judge call failed: {error}"
    if isinstance(error, JudgeReplyError):
        return str(error)
    return f"judge error: {type(error).__name__}: {error}"
