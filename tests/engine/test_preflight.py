"""The pre-flight `run` and `validate` share: good suites pass without side effects, and what runs
but deserves a look is a warning with counts, in run.json and on the console."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, write_jsonl, write_suite
from harness.cli import main
from harness.errors import ConfigError, HarnessError, SuiteError
from harness.engine.preflight import RunOptions, preflight
from harness.files.paths import escape_problem

REFS = [
    {"id": "q1", "input": "How long is the warranty?", "reference": "2 years", "reference_doc_ids": ["warranty.md"]},
    {"id": "q2", "input": "Can I return it?", "reference": "30 days", "reference_doc_ids": ["returns.md"]},
    {"id": "q3", "input": "Do you sell kettles?", "reference": "unknown"},
]


def corpus_folder(folder: Path) -> Path:
    (folder / "corpus").mkdir(parents=True, exist_ok=True)
    (folder / "corpus" / "warranty.md").write_text("# Warranty\nTwo years on every kettle.\n")
    (folder / "corpus" / "returns.md").write_text("# Returns\nWithin 30 days.\n")
    return folder / "corpus"


@pytest.mark.parametrize("suite", ["suites/demo/suite.yaml", "examples/quickstart/suite.yaml"])
def test_shipped_suites_pass_without_setting_anything_up(
    suite: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_cache: Path
) -> None:
    """The demo's LoRA training and index building live in setup(), which pre-flight never calls."""
    import adapters.finetuned
    import adapters.rag

    async def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pre-flight called setup()")

    monkeypatch.setattr(adapters.finetuned.FinetunedSystem, "setup", forbidden)
    monkeypatch.setattr(adapters.rag.RetrievalStage, "setup", forbidden)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / suite)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok: suite ") and "Traceback" not in err
    assert list(isolated_cache.iterdir()) == [] and list(tmp_path.iterdir()) == []


def test_demo_oracle_warning_counts_examples_without_passages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "suites/demo/suite.yaml")]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in (ROOT / "suites/demo/questions.jsonl").read_text().splitlines()]
    lacking = sum(1 for r in rows if r["split"] == "test" and not r.get("doc_ids"))
    test = sum(1 for r in rows if r["split"] == "test")
    assert f"warning: systems.oracle: {lacking} of {test} test examples have no reference_doc_ids" in err
    assert "(1 warning(s))" in out


def test_warnings_reach_run_json_and_the_console(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus_folder(tmp_path)
    write_jsonl(tmp_path / "outputs.jsonl", [{"id": "q1", "output": "2 years"}, {"id": "q7", "output": "?"}, {"id": "q8", "output": "?"}])
    suite = write_suite(tmp_path, {
        "name": "warned",
        "dataset": {"inline": REFS},
        "corpus": {"path": "corpus"},
        "systems": {
            "oracle": {"kind": "oracle", "model": "scripted/echo"},
            # mentions the word "context" but has no {{context}}: the passages go in front
            "rag": {"kind": "rag", "model": "scripted/echo", "prompt": {"template": "Use the context. Q: {{input}}"}},
            "rep": {"kind": "replay", "path": "outputs.jsonl"},
        },
        "metrics": ["exact_match"],
        "settings": {"max_error_rate": 0.5},  # the two replay rows that are missing are errors
    })
    expected = [
        "systems.oracle: 1 of 3 test examples have no reference_doc_ids or reference_contexts; they are answered with an empty context (q3)",
        "systems.rag.prompt: the prompt has no {{context}} placeholder; the passages are put in front of the template as 'Context: ...'",
        "systems.rep.path: 2 of 3 test examples have no row; they score error (q2, q3)",
        "systems.rep.path: 2 of 3 rows have ids that are not in the dataset (q7, q8)",
    ]
    assert main(["validate", str(suite)]) == 0
    out, err = capsys.readouterr()
    assert [line.removeprefix("warning: ") for line in err.splitlines()] == expected
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--no-report"]) == 0
    out, err = capsys.readouterr()
    header = json.loads((tmp_path / "run" / "run.json").read_text())
    assert header["warnings"] == expected
    assert all(f"warning: {w}" in out + err for w in expected)
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    rag = [s for s in samples if s["system"] == "rag"]
    prompt = rag[0]["response"]["metadata"]["prompt"][-1]["content"]
    assert prompt.startswith("Context:\n[1] source: ") and prompt.endswith("Use the context. Q: " + rag[0]["example"]["input"])


def test_replay_rows_outside_a_limit_are_not_strangers(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "input": f"question {i}"} for i in range(5)]
    write_jsonl(tmp_path / "outputs.jsonl", [{"id": r["id"], "output": "x"} for r in rows])
    suite = write_suite(tmp_path, {"name": "lim", "dataset": {"inline": rows, "limit": 2}, "systems": {"rep": {"kind": "replay", "path": "outputs.jsonl"}}})
    plan = preflight(suite, RunOptions(limit=1))
    assert plan.warnings == [] and [e.id for e in plan.dataset.test] == ["q0"]
    assert sorted(plan.dataset.known_ids) == [f"q{i}" for i in range(5)]


def test_an_oracle_with_some_unanswerable_examples_is_not_warned_about_them(tmp_path: Path) -> None:
    """Examples the dataset marks unanswerable rightly have no passages."""
    from harness.types import Example

    if "answerable" not in Example.model_fields:
        pytest.skip("the dataset has no `answerable` field in this tree")
    corpus_folder(tmp_path)
    rows = [*REFS[:2], {**REFS[2], "answerable": False}]
    suite = write_suite(tmp_path, {"name": "u", "dataset": {"inline": rows, "fields": {"answerable": "answerable"}}, "corpus": {"path": "corpus"},
                                   "systems": {"oracle": {"kind": "oracle", "model": "scripted/echo"}}})
    assert preflight(suite, RunOptions()).warnings == []


def test_relative_paths_inside_the_folder_and_absolute_paths_are_fine(tmp_path: Path) -> None:
    outside = tmp_path / "shared" / "data.jsonl"
    outside.parent.mkdir()
    write_jsonl(outside, [{"id": "a", "input": "hi"}])
    folder = tmp_path / "suite"
    (folder / "data").mkdir(parents=True)
    write_jsonl(folder / "data" / "train.jsonl", [{"id": "t", "input": "ho", "reference": "x"}])
    suite = write_suite(folder, {"name": "p", "dataset": {"path": str(outside), "train": {"path": "data/../data/train.jsonl"}},
                                 "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}})
    plan = preflight(suite, RunOptions())
    assert [e.id for e in plan.dataset.test] == ["a"] and [e.id for e in plan.dataset.train] == ["t"]
    assert escape_problem(folder, "../x") and escape_problem(folder, "a/../../x")
    assert escape_problem(folder, "a/../x") is None and escape_problem(folder, ".") is None and escape_problem(folder, "/etc/x") is None


def test_links_inside_the_corpus_folder_are_read(tmp_path: Path) -> None:
    from harness.retrieval.config import CorpusConfig
    from harness.retrieval.corpus import load_corpus

    corpus = corpus_folder(tmp_path)
    (corpus / "guides").mkdir()
    os.symlink("../returns.md", corpus / "guides" / "returns-copy.md")
    loaded = load_corpus(CorpusConfig(path="corpus"), tmp_path)
    assert loaded.by_id["guides/returns-copy.md"].text == loaded.by_id["returns.md"].text


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_corpus_file_is_one_located_problem(tmp_path: Path) -> None:
    from harness.retrieval.config import CorpusConfig
    from harness.retrieval.corpus import load_corpus

    corpus = corpus_folder(tmp_path)
    (corpus / "returns.md").chmod(0)
    try:
        with pytest.raises(ConfigError) as caught:
            load_corpus(CorpusConfig(path="corpus"), tmp_path)
    finally:
        (corpus / "returns.md").chmod(0o644)
    assert caught.value.problems == [f"{corpus / 'returns.md'}: cannot read (Permission denied)"]


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(
        "name: m\ndataset: {inline: [{id: a, input: hi}]}\n"
        "systems:\n  a: &base {kind: prompt, model: scripted/echo}\n  b:\n    <<: *base\n    model: scripted/other\n"
        "scripted_models: {other: {default: x}}\n"
    )
    plan = preflight(tmp_path / "suite.yaml", RunOptions())
    assert plan.suite.systems["b"].model == "scripted/other"


def test_literal_braces_around_a_placeholder_are_allowed(tmp_path: Path) -> None:
    import asyncio

    suite = write_suite(tmp_path, {"name": "b", "dataset": {"inline": [{"id": "a", "input": "hi"}]},
                                   "systems": {"s": {"kind": "prompt", "model": "scripted/echo", "prompt": {"template": "{{{input}}} }}"}}}})
    plan = preflight(suite, RunOptions())
    response = asyncio.run(plan.systems["s"].respond(plan.dataset.test[0]))
    assert response.text == "{hi} }}"


def test_unknown_systems_option_is_refused_before_anything_else(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, {"name": "x", "dataset": {"inline": [{"id": "a", "input": "hi"}]},
                                   "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}})
    with pytest.raises(HarnessError, match="--systems: no system named 'nope'"):
        preflight(suite, RunOptions(systems=["nope"]))


def test_a_suite_file_that_is_a_folder_or_unreadable_is_located(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(SuiteError, match="not a file"):
        preflight(tmp_path / "dir.yaml", RunOptions())
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(
        {"name": "bom", "dataset": {"inline": [{"id": "a", "input": "hi"}]}, "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}}
    ).encode())
    assert preflight(tmp_path / "bom.yaml", RunOptions()).suite.name == "bom"


def test_a_file_the_system_refuses_to_read_is_one_located_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as the test above, for a run as root (which reads files whatever their mode)."""
    from harness.retrieval.config import CorpusConfig
    from harness.retrieval.corpus import load_corpus

    corpus = corpus_folder(tmp_path)
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "returns.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ConfigError) as caught:
        load_corpus(CorpusConfig(path="corpus"), tmp_path)
    assert caught.value.problems == [f"{corpus / 'returns.md'}: cannot read (Permission denied)"]


def test_a_key_given_by_every_use_of_a_model_needs_no_provider_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gateway recipe: every system passes `api_key: ${GATEWAY_KEY}`; OPENAI_API_KEY is unset."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("GATEWAY_KEY", "gw-7f3a9c2e1b5d4f60")
    keyed = {"api_key": "${GATEWAY_KEY}", "api_base": "http://127.0.0.1:9/v1"}
    systems = {
        "a": {"kind": "prompt", "model": "openai/gpt-4o-mini", "params": {"extra": keyed}},
        "b": {"kind": "prompt", "model": "openai/gpt-4o-mini", "params": {"extra": {"api_key": "sk-literal-0123456789"}}},
    }
    rows = [{"id": "q1", "input": "2+2?", "reference": "4"}]
    suite = write_suite(tmp_path, {"name": "gw", "dataset": {"inline": rows}, "systems": systems, "metrics": ["exact_match"]})
    assert main(["validate", str(suite)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    # one use without a key of its own still needs the provider's variable
    systems["c"] = {"kind": "prompt", "model": "openai/gpt-4o-mini"}
    suite = write_suite(tmp_path, {"name": "gw", "dataset": {"inline": rows}, "systems": systems, "metrics": ["exact_match"]})
    assert main(["validate", str(suite)]) == 2
    assert "openai/gpt-4o-mini: set the environment variable OPENAI_API_KEY" in capsys.readouterr().err
