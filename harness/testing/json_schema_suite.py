"""Run the official JSON Schema test suite (json-schema-org/JSON-Schema-Test-Suite) through the
harness's schema validation, from a local copy: the benchmark runs all of it, the tests a subset.

Layout expected under `root`: `tests/<draft dir>/*.json` and `remotes/`. Remote `$ref`s
(`http://localhost:1234/...`) are served from `remotes/` through a referencing registry; nothing
is fetched from the network. Required tests run with `format` as an annotation; the optional
`format` tests with `format: assert`, as the suite asks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.metrics.schema_dialect import META_SCHEMAS, draft_of_uri
from harness.metrics.schema_validator import SchemaProblem, compile_schema

DRAFT_DIRS = {"4": "draft4", "6": "draft6", "7": "draft7", "2019-09": "draft2019-09", "2020-12": "draft2020-12"}
REMOTE_BASE = "http://localhost:1234/"


@dataclass
class Outcome:
    file: str
    case: str
    test: str
    expected: bool
    got: bool | None
    problem: str | None = None

    @property
    def agrees(self) -> bool:
        return self.got is self.expected


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def agreed(self) -> int:
        return sum(o.agrees for o in self.outcomes)

    @property
    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.agrees]


def registry_for(root: Path, draft: str) -> Any:
    """Every file under `remotes/` at its localhost:1234 URI (schemas without `$schema` read as
    `draft`), so the suite's remote references resolve offline. A remote without `$schema` that
    belongs to another draft's folder (or declares a draft not supported), or is not a valid schema of this draft (booleans in draft
    4), is left out, as the suite's own runners do."""
    import referencing
    import referencing.jsonschema
    from jsonschema.validators import validator_for

    spec = {"4": referencing.jsonschema.DRAFT4, "6": referencing.jsonschema.DRAFT6,
            "7": referencing.jsonschema.DRAFT7, "2019-09": referencing.jsonschema.DRAFT201909,
            "2020-12": referencing.jsonschema.DRAFT202012}[draft]
    meta = validator_for({"$schema": META_SCHEMAS[draft]})
    resources = []
    for path in sorted((root / "remotes").rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        relative = path.relative_to(root / "remotes").as_posix()
        declared = contents.get("$schema") if isinstance(contents, dict) else None
        undeclared = not isinstance(declared, str)
        foreign = relative.startswith("draft") and not relative.startswith(DRAFT_DIRS[draft] + "/")
        if foreign and (undeclared or _supported(declared) is None):
            continue
        if undeclared and not meta(meta.META_SCHEMA).is_valid(contents):
            continue
        uri = REMOTE_BASE + relative
        resources.append((uri, referencing.Resource.from_contents(contents, default_specification=spec)))
    return referencing.Registry().with_resources(resources)


def _supported(uri: str) -> str | None:
    try:
        return draft_of_uri(uri)
    except ValueError:
        return None


def run_file(path: Path, draft: str, registry: Any, format_assert: bool, label: str) -> Tally:
    tally = Tally()
    for case in json.loads(path.read_text(encoding="utf-8")):
        try:
            compiled = compile_schema(case["schema"], draft=draft, format_assert=format_assert, registry=registry)
        except SchemaProblem as error:
            compiled, problem = None, f"schema refused: {error}"
        for test in case["tests"]:
            outcome = Outcome(label, case["description"], test["description"], test["valid"], None)
            if compiled is None:
                outcome.problem = problem
            else:
                try:
                    outcome.got = not compiled.errors(test["data"])
                except SchemaProblem as error:
                    outcome.problem = str(error)
                except Exception as error:  # noqa: BLE001 - a crash is a disagreement, reported
                    outcome.problem = f"{type(error).__name__}: {error}"
            tally.outcomes.append(outcome)
    return tally


def run_draft(root: Path, draft: str, only: set[str] | None = None) -> dict[str, Tally]:
    """{"required": ..., "format": ..., "optional": ...} for one draft (`only`: file stems)."""
    folder = root / "tests" / DRAFT_DIRS[draft]
    registry = registry_for(root, draft)
    groups = {
        "required": (sorted(folder.glob("*.json")), False),
        "format": (sorted((folder / "optional" / "format").glob("*.json")), True),
        "optional": (sorted((folder / "optional").glob("*.json")), False),
    }
    result = {}
    for group, (paths, format_assert) in groups.items():
        tally = Tally()
        for path in paths:
            if only is None or path.stem in only:
                label = path.relative_to(folder).as_posix()
                tally.outcomes += run_file(path, draft, registry, format_assert, label).outcomes
        result[group] = tally
    return result
