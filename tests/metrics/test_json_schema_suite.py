"""The official JSON Schema test suite (a vendored subset) through the harness's validation: every
required test, the optional format tests with `format: assert`, ECMA-262 regex and other optional
tests agree, on every supported draft. Remote `$ref`s are served from the subset's remotes/."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.testing.json_schema_suite import DRAFT_DIRS, run_draft

SUITE = Path(__file__).resolve().parents[1] / "data" / "json_schema_suite"


@pytest.mark.parametrize("draft", list(DRAFT_DIRS))
def test_official_suite_subset_agrees(draft: str) -> None:
    groups = run_draft(SUITE, draft)
    assert groups["required"].total > 100 and groups["format"].total > 10
    for group, tally in groups.items():
        wrong = [f"{o.file} | {o.case} | {o.test}: {o.problem or o.got}" for o in tally.disagreements]
        assert not wrong, f"{draft} {group}: {len(wrong)} of {tally.total} disagree:\n" + "\n".join(wrong)


def test_draft7_suite_read_as_2020_12_does_not_agree() -> None:
    """The runner can fail: draft-7 tests (most without $schema) read as 2020-12 disagree."""
    import json

    from harness.metrics.schema_validator import SchemaProblem, compile_schema
    from harness.testing.json_schema_suite import registry_for

    registry = registry_for(SUITE, "7")
    wrong = 0
    for case in json.loads((SUITE / "tests" / "draft7" / "items.json").read_text()):
        try:
            compiled = compile_schema(case["schema"], draft="2020-12", registry=registry)
        except SchemaProblem:
            wrong += len(case["tests"])
            continue
        wrong += sum((not compiled.errors(t["data"])) is not t["valid"] for t in case["tests"])
    assert wrong > 0
