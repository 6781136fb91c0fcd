"""Reading a suite file: YAML -> defaults and sweeps applied -> strict validation -> Suite.

Every problem is collected and reported together, each with its location in the file.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.errors import SuiteError
from harness.metrics.base import load_metric_types
from harness.retrieval.config import resolve_suite_retrieval
from harness.secrets.sources import register_suite_vocabulary
from harness.suite.env_vars import expand_env_vars
from harness.suite.limits import size_problems
from harness.suite.model import Suite, build_suite_model
from harness.files.paths import escape_problem
from harness.suite.sweeps import expand_sweeps
from harness.systems import load_system_kinds
from harness.suite.yaml_file import read_suite_file
from harness.files.textfile import TextFileError, read_text


@lru_cache(maxsize=1)
def suite_model() -> type:
    kinds = load_system_kinds()
    metrics = load_metric_types()
    return build_suite_model([e.config for e in kinds.entries()], [e.config for e in metrics.entries()])


def suite_json_schema() -> dict[str, Any]:
    schema = suite_model().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Harness suite file"
    return schema


def load_suite(
    path: str | Path, *, model: str | None = None, judge_model: str | None = None
) -> Suite:
    """Load and validate a suite file. `model`/`judge_model` override the file for this run."""
    path = Path(path)
    raw, text = read_suite_file(path)
    suite = parse_suite(raw, base_dir=path.resolve().parent, where=str(path), model=model, judge_model=judge_model)
    suite._path = path.resolve()
    suite._content_hash = hashlib.sha256(text.encode()).hexdigest()
    return suite




def parse_suite(
    raw: dict[str, Any],
    *,
    base_dir: Path,
    where: str = "suite",
    model: str | None = None,
    judge_model: str | None = None,
) -> Suite:
    """Validate an already-parsed suite mapping (the Python API uses this directly)."""
    if too_large := size_problems(raw):  # before anything walks or copies it (harness.suite.limits)
        raise SuiteError("the suite is too large to read", where=where, problems=too_large)
    raw = copy.deepcopy(raw)
    problems: list[str] = expand_env_vars(raw)  # ${VAR} from the environment (harness.suite.env_vars)
    systems = raw.get("systems")
    if isinstance(systems, dict):
        raw["systems"] = expand_sweeps(systems, problems)
        _apply_defaults(raw, model)
    if isinstance(raw.get("metrics"), list):
        raw["metrics"] = [{"type": m} if isinstance(m, str) else m for m in raw["metrics"]]
    if judge_model:
        raw.setdefault("judge", {})
        if isinstance(raw["judge"], dict):
            raw["judge"]["model"] = judge_model
    # the suite's names, keys, kinds and models are never secrets, whatever they look like
    register_suite_vocabulary(raw, load_system_kinds().names(), load_metric_types().names())
    suite = None
    try:
        suite = suite_model().model_validate(raw)
    except ValidationError as error:
        problems.extend(_format_errors(error, raw))
    if suite is not None:
        problems.extend(resolve_suite_retrieval(suite))
    if suite is None or problems:
        raise SuiteError(f"{len(problems)} problem(s) in the suite", where=where, problems=problems)
    suite._base_dir = base_dir
    _check_answer_format(suite, where)
    return suite


def _apply_defaults(raw: dict[str, Any], override_model: str | None) -> None:
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        return
    kinds = load_system_kinds()
    for config in raw["systems"].values():
        if not isinstance(config, dict) or config.get("kind") not in kinds:
            continue
        fields = kinds.get(config["kind"]).config.model_fields
        if "model" in fields:
            if override_model:
                config["model"] = override_model
            elif "model" not in config and defaults.get("model"):
                config["model"] = defaults["model"]
        if "params" in fields and isinstance(defaults.get("params"), dict):
            config["params"] = {**defaults["params"], **(config.get("params") or {})}


def _format_errors(error: ValidationError, raw: dict[str, Any]) -> list[str]:
    kinds = load_system_kinds()
    metrics = load_metric_types()
    lines = []
    for item in error.errors():
        loc = list(item["loc"])
        # a tagged union puts the tag value into the location: systems.<name>.<kind>.field
        if len(loc) >= 3 and loc[0] in ("systems", "metrics"):
            entry = _lookup(raw, loc[:2])
            tag = "kind" if loc[0] == "systems" else "type"
            if isinstance(entry, dict) and entry.get(tag) == loc[2]:
                del loc[2]
        place = _loc_text(loc)
        kind = item["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required"
        elif kind == "union_tag_invalid":
            registry = kinds if loc and loc[0] == "systems" else metrics
            tag = "kind" if loc and loc[0] == "systems" else "type"
            got = item.get("ctx", {}).get("tag")
            message = f"unknown {registry.what} {got!r} (known: {', '.join(registry.names())})"
            place = _loc_text(loc + [tag])
        elif kind == "union_tag_not_found":
            tag = "kind" if loc and loc[0] == "systems" else "type"
            message = "required"
            place = _loc_text(loc + [tag])
        else:
            message = item["msg"]
            message = message[0].lower() + message[1:] if message else message
            message = message.removeprefix("value error, ")
        lines.append(f"{place}: {message}" if place else message)
    return lines


def _lookup(raw: Any, loc: list[Any]) -> Any:
    for part in loc:
        if isinstance(raw, dict):
            raw = raw.get(part)
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            return None
    return raw


def _loc_text(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _check_answer_format(suite: Suite, where: str) -> None:
    fmt = suite.answer_format
    if fmt is None or not isinstance(fmt.json_schema, str):
        return
    if problem := escape_problem(suite.base_dir, fmt.json_schema):
        raise SuiteError(f"answer_format.schema: {problem}", where=where)
    schema_path = suite.resolve(fmt.json_schema)
    try:
        fmt.json_schema = json.loads(read_text(schema_path))
    except TextFileError as error:
        raise SuiteError(f"answer_format.schema: {error}", where=where) from None
    except json.JSONDecodeError as error:
        raise SuiteError(
            f"answer_format.schema: {schema_path}:{error.lineno}:{error.colno}: not JSON ({error.msg})", where=where
        ) from None
    except RecursionError:
        raise SuiteError(f"answer_format.schema: {schema_path}: nested too deeply to read", where=where) from None
