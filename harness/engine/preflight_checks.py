"""Pre-flight checks on what the suite names: models and their providers, the gate's rules, the
run directory. Each returns located problems (`systems.x.model: ...`); `harness.engine.preflight`
gathers them, so `validate` and `run` refuse the same suites the same way.

Each check is here because what it catches would otherwise pass pre-flight and fail later: an
unknown provider would fail every call, a misspelt metric in a gate rule would only fail
`harness gate` after the run, and an `--out` under a file would be a traceback once the run has
started.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from harness.gateway.providers import IN_PROCESS_PROVIDERS, is_in_process
from harness.gateway.scripted import get_script
from harness.suite.model import Suite


def model_name_problems(suite: Suite, selected: list[str]) -> list[str]:
    """In-process models (`scripted/`, `local/`) must exist and do the job they are named for."""
    from harness.local.catalog import LocalModelError, resolve_model

    def check(model: str | None, kind: str, where: str) -> str | None:
        provider, _, name = (model or "").partition("/")
        try:
            if provider == "scripted":
                get_script(name)
            elif provider == "local":
                resolve_model(model or "", kind)
        except (KeyError, LocalModelError) as error:
            return f"{where}: {str(error.args[0]) if error.args else error}"
        return None

    found = [check(model, kind, where) for where, model, kind, _ in named_models(suite, selected)]
    return [p for p in found if p]


def named_models(suite: Suite, selected: list[str]) -> list[tuple[str, str | None, str, dict[str, Any]]]:
    """(where, model, completion|embedding, the call's extra options) for every model the selected
    systems and the judge name."""
    found: list[tuple[str, str | None, str, dict[str, Any]]] = []
    for name in selected:
        config = suite.systems[name]
        params = getattr(config, "params", None)
        found.append((f"systems.{name}.model", getattr(config, "model", None), "completion", _extra(params)))
        retrieval = getattr(config, "retrieval", None)
        if getattr(retrieval, "uses_embeddings", False):
            found.append((f"systems.{name}.retrieval.embedding_model", retrieval.embedding_model, "embedding", {}))
        if getattr(config, "selection", None) == "similar":
            found.append((f"systems.{name}.embedding_model", getattr(config, "embedding_model", None), "embedding", {}))
    found.append(("judge.model", suite.judge.model, "completion", _extra(suite.judge.params)))
    return found


def _extra(params: Any) -> dict[str, Any]:
    extra = getattr(params, "extra", None)
    return extra if isinstance(extra, dict) else {}


def hosted_models(suite: Suite, selected: list[str]) -> dict[str, bool]:
    """The chat models the selected systems and the judge call, each with whether every use of
    it passes an `api_key` of its own (then the provider's variable is not needed)."""
    keyed: dict[str, bool] = {}
    for _, model, kind, extra in named_models(suite, selected):
        if model and kind == "completion":
            keyed[model] = keyed.get(model, True) and bool(extra.get("api_key"))
    return keyed


def provider_problems(suite: Suite, selected: list[str]) -> list[str]:
    """A hosted model whose provider litellm does not know fails every call: say so now. litellm
    is imported only when a hosted model is named (the key check imports it then anyway)."""
    hosted = [(where, model, extra) for where, model, _, extra in named_models(suite, selected)
              if model and not is_in_process(model)]
    if not hosted:
        return []
    from harness.gateway.providers import load_litellm

    litellm = load_litellm()
    problems = []
    for where, model, extra in hosted:
        try:
            litellm.get_llm_provider(
                model=model, custom_llm_provider=extra.get("custom_llm_provider"), api_base=extra.get("api_base")
            )
        except Exception:  # noqa: BLE001 - litellm says "provider not provided" with a BadRequestError
            prefix, slash, _ = model.partition("/")
            in_process = ", ".join(f"{p}/" for p in IN_PROCESS_PROVIDERS)
            if slash:
                problems.append(f"{where}: unknown provider {prefix!r} in {model!r} (litellm's providers: "
                                f"https://docs.litellm.ai/docs/providers; in-process: {in_process})")
            else:
                problems.append(f"{where}: litellm cannot tell which provider serves {model!r}; "
                                f"name it as provider/model (openai/{model}, ollama/{model}, ...)")
    return problems


def gate_problems(suite: Suite, metric_names: list[str]) -> list[str]:
    """Gate rules whose metric (or system) names nothing the suite scores: `harness gate` would
    only refuse them after the run. Globs must match at least one name."""
    if suite.gate is None:
        return []
    systems = list(suite.systems)
    if suite.updates is not None:
        systems += [f"{n}@updated" for n in (suite.updates.systems or suite.systems)]
    problems = []
    for index, rule in enumerate(suite.gate.rules):
        for field, pattern, known in (("metric", rule.metric, metric_names), ("system", rule.system, systems)):
            if not any(fnmatchcase(name, pattern) for name in known):
                problems.append(f"gate.rules[{index}].{field}: {pattern!r} names no {field} of the suite "
                                f"(its {field}s: {', '.join(dict.fromkeys(known)) or 'none'})")
    return problems


def out_problems(out: Path) -> list[str]:
    """A run directory that cannot be made: the path is a file, or a folder above it is one."""
    if out.exists():
        return [] if out.is_dir() else [f"--out: {out} exists and is not a folder; choose another --out"]
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                return [f"--out: {parent} is a file, so {out} cannot be made under it; choose another --out"]
            break
    return []


def new_run_dir_problems(out: Path) -> list[str]:
    """For `harness run --out DIR` (a new run): DIR can be made (missing folders above it are
    made, as CI recipes expect: `--out results/runs/pr-1` on a fresh checkout), and DIR is new or
    empty."""
    problems = out_problems(out)
    if problems:
        return problems
    if out.is_dir() and any(p.name != "run.lock" for p in out.iterdir()):  # as RunWriter.create sees it
        return [f"--out: {out} already holds files; choose another --out or use --resume"]
    return []
