"""Prompt templates and the one path from messages to a Response, shared by every LLM-backed kind."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import ConfigError
from harness.gateway import GenerationParams, ModelRequest
from harness.metrics.extract import parse_json
from harness.systems import SystemConfig, SystemContext, UsesModel
from harness.types import Example, Response, Timings

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_OPENING = re.compile(r"\{\{+")


class PromptTemplate(BaseModel):
    """`{{name}}` placeholders; `{{metadata.x}}` reads a dataset column kept in metadata."""

    model_config = ConfigDict(extra="forbid")

    system: str | None = None
    template: str = "{{input}}"


class LLMSystemConfig(SystemConfig, UsesModel):
    """Fields shared by kinds that prompt a model."""

    prompt: PromptTemplate = Field(default_factory=PromptTemplate)
    params: GenerationParams = Field(default_factory=GenerationParams)
    structured_output: bool = Field(
        False,
        description="Constrain decoding to the suite's answer_format schema (grammar locally, "
        "response_format on providers). Off by default so 'just ask for JSON' is its own system.",
    )


def template_variables(text: str) -> set[str]:
    return set(_VAR.findall(text or ""))


def template_problems(
    text: str | None, allowed: set[str], where: str, examples: list[Example] | None = None, *, split: str = "test"
) -> list[str]:
    """What is wrong with a template, each with its location: an opening `{{` that does not start a
    `{{name}}` (it would be sent literally), a name no example provides (it would render empty),
    or a `{{metadata.column}}` that no example has (every call would fail)."""
    if not text:
        return []
    problems = []
    for opening in _OPENING.finditer(text):
        start = opening.end() - 2  # `{{{x}}}` is a literal brace around {{x}}
        if _VAR.match(text, start) is None:
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            closing = text.find("}}", start)
            near = 0 <= closing < start + 40 and "\n" not in text[start:closing]
            shown = text[start : closing + 2] if near else text[start : start + 24].split("\n")[0]
            problems.append(
                f"{where}: unclosed or malformed placeholder {shown!r} at line {line}, column {column} "
                "(placeholders are {{name}}, names of letters, digits, _ and .)"
            )
    for name in sorted(template_variables(text)):
        if name.startswith("metadata."):
            column_name = name.split(".", 1)[1]
            if examples and all(e.metadata.get(column_name) is None for e in examples):
                problems.append(f"{where}: no {split} example has a {column_name!r} column for {{{{{name}}}}}")
        elif name not in allowed:
            problems.append(
                f"{where}: unknown placeholder {{{{{name}}}}} (known: {', '.join(sorted(allowed))}, metadata.<column>)"
            )
    return problems


def check_template(config: LLMSystemConfig, context: SystemContext, allowed: set[str]) -> None:
    """Template mistakes are an error at build time, not a silent empty or literal text per sample."""
    problems = []
    for field, text in (("prompt.system", config.prompt.system), ("prompt.template", config.prompt.template)):
        problems += template_problems(text, allowed, context.where(*field.split(".")), context.test)
    if problems:
        raise ConfigError("bad prompt template", problems=problems)
    if config.structured_output and not _schema(context):
        raise ConfigError(
            f"{context.where('structured_output')}: needs answer_format.schema in the suite"
        )


def render(text: str, variables: dict[str, Any]) -> str:
    def substitute(found: re.Match[str]) -> str:
        name = found.group(1)
        if name.startswith("metadata."):
            value = variables.get("metadata", {}).get(name.split(".", 1)[1])
            if value is None:
                raise KeyError(f"example has no metadata column {name.split('.', 1)[1]!r}")
            return str(value)
        return str(variables.get(name, ""))

    return _VAR.sub(substitute, text)


def base_variables(example: Example, context: SystemContext) -> dict[str, Any]:
    fmt = context.suite.answer_format
    return {
        "input": example.input,
        "metadata": example.metadata,
        "format_instructions": (fmt.instructions or "") if fmt else "",
    }


BASE_VARIABLES = {"input", "format_instructions"}


def build_messages(config: LLMSystemConfig, variables: dict[str, Any]) -> list[dict[str, str]]:
    messages = []
    if config.prompt.system:
        messages.append({"role": "system", "content": render(config.prompt.system, variables)})
    messages.append({"role": "user", "content": render(config.prompt.template, variables)})
    return messages


def _schema(context: SystemContext) -> dict[str, Any] | None:
    fmt = context.suite.answer_format
    return fmt.json_schema if fmt and isinstance(fmt.json_schema, dict) else None


async def generate(
    config: LLMSystemConfig,
    context: SystemContext,
    messages: list[dict[str, str]],
    *,
    model: str | None = None,
    extra_params: dict[str, Any] | None = None,
) -> Response:
    """Call the model through the gateway and wrap the reply as a Response."""
    params = config.params
    if extra_params:
        params = params.model_copy(update={"extra": {**params.extra, **extra_params}})
    request = ModelRequest(
        model=model or config.model,
        messages=messages,
        params=params,
        response_schema=_schema(context) if config.structured_output else None,
    )
    reply = await context.gateway.complete(request)
    text = reply.text.strip()
    parsed = parse_json(text)[0] if context.suite.answer_format else None
    return Response(
        text=text,
        parsed=parsed,
        usage=reply.usage,
        cost_usd=reply.cost_usd,
        timings=Timings(total_s=reply.latency_s, generation_s=reply.latency_s),
        model=reply.model,
        cached=reply.cached,
        attempts=reply.attempts,
        metadata={"prompt": messages},
    )
