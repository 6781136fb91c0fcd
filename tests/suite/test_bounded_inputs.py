"""Inputs that hung, filled memory or ended in a traceback, each now refused with a located exit 2.

The broken-suite corpus (tests/broken_suites/) holds what git can store; this module makes what
it cannot (FIFOs, links that loop, files over a lowered size limit) in a temporary folder, and
checks the options of `harness run` (`--out`) and the Python API (`parse_suite`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import write_jsonl, write_suite
from harness.cli import main
from harness.errors import SuiteError
from harness.metrics.schema_validator import SchemaProblem, compile_schema
from harness.suite.loader import parse_suite

ROWS = [{"id": "q1", "input": "What is 2+2?", "reference": "4"}, {"id": "q2", "input": "What is 3+3?", "reference": "6"}]
BASE = {"kind": "prompt", "model": "scripted/echo"}


def suite_dict(**extra: Any) -> dict[str, Any]:
    return {"name": "bounded", "dataset": {"inline": ROWS}, "systems": {"base": BASE}, "metrics": ["exact_match"], **extra}


def refused_alike(suite: Path, work: Path, capsys: pytest.CaptureFixture[str], fragment: str) -> str:
    """`validate` and `run` both exit 2 with `fragment` on one line of the same message, writing nothing."""
    messages = []
    for args in (["validate", str(suite)], ["run", str(suite), "--out", str(work / "out"), "--no-progress"]):
        before = sorted(p.name for p in work.iterdir())
        assert main(args) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("error: ") and "Traceback" not in err, err
        assert len([line for line in err.splitlines() if fragment in line]) == 1, err
        assert sorted(p.name for p in work.iterdir()) == before, "something was written"
        messages.append(err)
    assert messages[0] == messages[1]
    return messages[0]


def with_deadline(seconds: float):
    """Fail (instead of hanging the test session) when the test's call does not return in time."""

    def run(function, *args):
        result: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: result.update(value=function(*args)), daemon=True)
        thread.start()
        thread.join(seconds)
        assert not thread.is_alive(), f"still running after {seconds} s"
        return result.get("value")

    return run


# --- special files: FIFOs, links that loop, a lowered size limit -----------------------------------


@pytest.mark.parametrize("name", ["data.jsonl", "data.csv", "data.json", "data.parquet"])
def test_a_fifo_dataset_is_refused_without_reading_it(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / name)
    suite = write_suite(tmp_path, suite_dict(dataset={"path": name}))
    message = with_deadline(60)(refused_alike, suite, tmp_path, capsys, "is a named pipe (FIFO), not a regular file")
    assert f"{tmp_path / name}: is a named pipe (FIFO)" in message


def test_a_fifo_in_a_corpus_folder_is_one_located_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# A\nalpha\n")
    os.mkfifo(corpus / "b.md")
    suite = write_suite(tmp_path, suite_dict(corpus={"path": "corpus"}, systems={"rag": {"kind": "rag", "model": "scripted/echo"}}))
    with_deadline(60)(refused_alike, suite, tmp_path, capsys, f"corpus.path: {corpus / 'b.md'}: is a named pipe (FIFO)")


@pytest.mark.parametrize("where", ["metric", "answer_format"])
def test_a_fifo_schema_is_refused(where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "schema.json")
    if where == "metric":
        suite = suite_dict(metrics=[{"type": "json_schema", "schema": "schema.json"}])
    else:
        suite = suite_dict(answer_format={"schema": "schema.json"})
    with_deadline(60)(refused_alike, write_suite(tmp_path, suite), tmp_path, capsys, "is a named pipe (FIFO)")


def test_a_dataset_link_that_loops_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.jsonl").symlink_to("b.jsonl")
    (tmp_path / "b.jsonl").symlink_to("a.jsonl")
    suite = write_suite(tmp_path, suite_dict(dataset={"path": "a.jsonl"}))
    refused_alike(suite, tmp_path, capsys, f"{tmp_path / 'a.jsonl'}: a loop of symbolic links: it leads to no file")


def test_files_above_the_size_limit_are_refused_and_the_limit_can_be_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(tmp_path / "data.jsonl", [{"id": f"q{i}", "input": "x" * 100, "reference": "y"} for i in range(40)])
    suite = write_suite(tmp_path, suite_dict(dataset={"path": "data.jsonl"}))
    monkeypatch.setenv("HARNESS_MAX_FILE_MB", "0.001")  # 1,048 bytes; the file is over 5,000
    message = refused_alike(suite, tmp_path, capsys, "above the 1,048 bytes limit on input files")
    assert "set HARNESS_MAX_FILE_MB to raise it" in message
    monkeypatch.setenv("HARNESS_MAX_FILE_MB", "1")
    assert main(["validate", str(suite)]) == 0, capsys.readouterr().err


def test_a_json_dataset_nested_beyond_the_stack_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.json").write_text('[{"id": "q1", "input": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    suite = write_suite(tmp_path, suite_dict(dataset={"path": "data.json"}))
    refused_alike(suite, tmp_path, capsys, f"{tmp_path / 'data.json'}: not usable JSON (nested too deeply)")


# --- `harness run --out` ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["under_a_file", "is_a_file", "holds_files"])
def test_an_out_folder_that_cannot_be_made_is_refused_before_the_run(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_cache: Path
) -> None:
    suite = write_suite(tmp_path, suite_dict())
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    out, expected = {
        "under_a_file": (tmp_path / "a_file" / "run", f"--out: {tmp_path / 'a_file'} is a file"),
        "is_a_file": (tmp_path / "a_file", f"--out: {tmp_path / 'a_file'} exists and is not a folder"),
        "holds_files": (tmp_path / "full", f"--out: {tmp_path / 'full'} already holds files"),
    }[case]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["run", str(suite), "--out", str(out), "--no-progress"]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == "" and err.startswith(f"error: {expected}") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert list(isolated_cache.iterdir()) == []


def test_missing_folders_above_out_are_made(tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_cache: Path) -> None:
    suite = write_suite(tmp_path, suite_dict())
    out = tmp_path / "results" / "runs" / "pr-1"
    assert main(["run", str(suite), "--out", str(out), "--no-progress", "--no-report"]) == 0, capsys.readouterr().err
    assert (out / "run.json").is_file()


def test_the_api_refuses_an_out_folder_under_a_file(tmp_path: Path) -> None:
    from harness.errors import HarnessError
    from harness.engine.preflight import RunOptions, preflight

    (tmp_path / "a_file").write_text("x")
    with pytest.raises(HarnessError) as caught:
        preflight(write_suite(tmp_path, suite_dict()), RunOptions(out=tmp_path / "a_file" / "run"))
    assert caught.value.problems == [f"--out: {tmp_path / 'a_file'} is a file, so {tmp_path / 'a_file' / 'run'} cannot be made under it; choose another --out"]


# --- what the suite expands to: nesting, aliases, sweeps --------------------------------------------


def test_an_alias_bomb_is_refused_quickly_and_before_expansion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ten levels of nine aliases: 3.5 billion values to copy. Measured without copying: fast."""
    levels = ["a: &a [" + ", ".join(['"${HOME}"'] * 9) + "]"]
    for previous, name in zip("abcdefghi", "bcdefghij"):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = yaml.safe_dump(suite_dict(), sort_keys=False).replace("model: scripted/echo", "model: scripted/echo\n    params:\n      extra:\n" + "\n".join("        " + line for line in levels))
    (tmp_path / "suite.yaml").write_text(text)
    started = time.monotonic()
    refused_alike(tmp_path / "suite.yaml", tmp_path, capsys, "values once YAML aliases are expanded; a suite may hold at most 1,000,000")
    assert time.monotonic() - started < 20


def test_the_python_api_is_bounded_too(tmp_path: Path) -> None:
    loop: dict[str, Any] = {}
    loop["again"] = loop
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(systems={"base": {**BASE, "params": {"extra": loop}}}), base_dir=tmp_path)
    assert caught.value.problems[0].startswith("systems.base.params.extra.again.again")
    assert "nested more than 64 levels deep" in caught.value.problems[0]
    shared = ["x"] * 100
    for _ in range(4):
        shared = [shared] * 100  # 100^5 values once expanded, a few hundred objects here
    with pytest.raises(SuiteError, match="a suite may hold at most 1,000,000"):
        parse_suite(suite_dict(description=None, systems={"base": {**BASE, "params": {"extra": {"x": shared}}}}), base_dir=tmp_path)


def test_sweeps_keep_their_order_and_every_variant_name(tmp_path: Path) -> None:
    train = [{"id": f"t{i}", "input": f"{i}+1?", "reference": str(i + 1), "split": "train"} for i in range(3)]
    systems = {"first": BASE, "fs": {"kind": "few_shot", "model": "scripted/echo", "sweep": {"k": [1, 2]}}, "last": BASE}
    suite = parse_suite(suite_dict(dataset={"inline": ROWS + train}, systems=systems), base_dir=tmp_path)
    assert list(suite.systems) == ["first", "fs[k=1]", "fs[k=2]", "last"]
    assert [suite.systems[n].k for n in ("fs[k=1]", "fs[k=2]")] == [1, 2]


@pytest.mark.parametrize("order", ["explicit_first", "sweep_first"])
def test_a_variant_never_replaces_a_declared_system(order: str, tmp_path: Path) -> None:
    items = [("fs[k=1]", {"kind": "few_shot", "model": "scripted/echo", "k": 5}),
             ("fs", {"kind": "few_shot", "model": "scripted/echo", "sweep": {"k": [1, 2]}})]
    systems = dict(items if order == "explicit_first" else items[::-1])
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(systems=systems), base_dir=tmp_path)
    assert caught.value.problems == ["systems.fs.sweep: the variant {k: 1} is named 'fs[k=1]', like the system declared "
                                     "under that name; rename one of them"]


def test_equal_values_in_one_sweep_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(systems={"a": {**BASE, "sweep": {"params.top_p": [0.5, 0.50]}}}), base_dir=tmp_path)
    assert caught.value.problems == ["systems.a.sweep: the variants {params.top_p: 0.5} and {params.top_p: 0.5} are both "
                                     "named 'a[top_p=0.5]'; give values that read differently"]


def test_a_sweep_is_counted_before_it_is_made(tmp_path: Path) -> None:
    sweep = {f"params.extra.k{i}": list(range(10)) for i in range(10)}
    started = time.monotonic()
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(systems={"a": {**BASE, "sweep": sweep}}), base_dir=tmp_path)
    assert time.monotonic() - started < 5
    assert caught.value.problems[0].startswith("systems.a.sweep: makes 10,000,000,000 variants (10 params.extra.k0 x ")
    assert caught.value.problems[0].endswith("; a sweep may make at most 1,000")


# --- numbers, names, schemas, columns, providers, gate rules ------------------------------------------


@pytest.mark.parametrize("settings, fragment", [
    ({"timeout_s": float("nan")}, "settings.timeout_s: input should be a finite number"),
    ({"timeout_s": 1e9}, "settings.timeout_s: input should be less than or equal to 86400"),
    ({"concurrency_per_provider": {"openai": 10**12}}, "settings.concurrency_per_provider.openai: input should be less"),
    ({"bootstrap_samples": 10**12}, "settings.bootstrap_samples: input should be less than or equal to 1000000"),
    ({"seed": -1}, "settings.seed: input should be greater than or equal to 0"),
    ({"retry": {"max_delay_s": float("inf")}}, "settings.retry.max_delay_s: input should be a finite number"),
])
def test_numbers_that_cannot_run_are_refused(settings: dict[str, Any], fragment: str, tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(settings=settings), base_dir=tmp_path)
    assert any(p.startswith(fragment) for p in caught.value.problems), caught.value.problems


def test_a_name_with_a_newline_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        parse_suite(suite_dict(systems={"base\n": BASE}), base_dir=tmp_path)
    assert caught.value.problems == ["systems: system names may use letters, digits and _.-@=,+[] only: 'base\\n'"]


def test_recursive_schemas_are_fine_and_loops_on_one_value_are_not() -> None:
    from jsonschema.exceptions import ValidationError  # noqa: F401 - jsonschema is a dependency

    tree = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}}
    compiled = compile_schema(tree)
    assert compiled.errors({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}) == []
    assert len(compiled.errors({"name": "a", "children": [{"children": []}]})) == 1
    linked = {"$ref": "#/$defs/node", "$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}}}}}
    compile_schema(linked)
    compile_schema({"type": "string", "$defs": {"unused": {"$ref": "#/$defs/unused"}}})  # never applied
    loops = [
        ({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}, "#/$defs/b/$ref"),
        ({"$ref": "#"}, "#/$ref"),
        ({"anyOf": [{"type": "string"}, {"$ref": "#"}]}, "#/anyOf/1/$ref"),
        ({"properties": {"x": {"not": {"$ref": "#/properties/x"}}}}, "#/properties/x/not/$ref"),
    ]
    for schema, where in loops:
        with pytest.raises(SchemaProblem, match="leads back to") as caught:
            compile_schema(schema)
        assert str(caught.value).startswith(f"{where}: "), caught.value


def test_only_columns_the_suite_names_itself_must_exist(tmp_path: Path) -> None:
    rows = [{"id": "q1", "input": "2+2?", "answer": "4"}]
    suite = parse_suite(suite_dict(dataset={"inline": rows, "fields": {"reference": "answer"}}), base_dir=tmp_path)
    from harness.data.datasets import load_dataset

    assert load_dataset(suite).test[0].reference == "4"
    load_dataset(parse_suite(suite_dict(dataset={"inline": rows}), base_dir=tmp_path))  # no `reference`: fine
    with pytest.raises(Exception) as caught:
        load_dataset(parse_suite(suite_dict(dataset={"inline": rows, "fields": {"tags": "tag", "reference": "answr"}}), base_dir=tmp_path))
    assert caught.value.problems == [
        "dataset.fields.reference: no row has the column 'answr' (the rows' columns: id, input, answer)",
        "dataset.fields.tags: no row has the column 'tag' (the rows' columns: id, input, answer)",
    ]


def test_unknown_providers_and_unprefixed_unknown_models_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000")
    systems = {"known": {"kind": "prompt", "model": "openai/gpt-4o-mini"}, "bare": {"kind": "prompt", "model": "mystery-model"},
               "proxied": {"kind": "prompt", "model": "mystery-model", "params": {"extra": {"custom_llm_provider": "openai"}}}}
    suite = write_suite(tmp_path, suite_dict(systems=systems, judge={"model": "nosuchprovider/judge"}))
    message = refused_alike(suite, tmp_path, capsys, "systems.bare.model: litellm cannot tell which provider serves 'mystery-model'")
    assert "judge.model: unknown provider 'nosuchprovider' in 'nosuchprovider/judge'" in message
    assert "systems.known" not in message and "systems.proxied" not in message


def test_gate_rules_name_what_the_suite_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"rules": [{"metric": "exact_match", "min": 0.1}, {"metric": "*latency_s", "system": "ba*", "max": 100}]}
    assert main(["validate", str(write_suite(tmp_path, suite_dict(metrics=["exact_match", "latency"], gate=good)))]) == 0
    capsys.readouterr()
    bad = {"rules": [{"metric": "f1*", "min": 0.1}, {"metric": "exact_match", "system": "bsae", "min": 0.1}]}
    message = refused_alike(write_suite(tmp_path, suite_dict(gate=bad)), tmp_path, capsys, "gate.rules[0].metric: 'f1*' names no metric")
    assert "gate.rules[1].system: 'bsae' names no system of the suite (its systems: base)" in message


def test_the_limits_are_documented_where_suites_are() -> None:
    """The limits users read about are the ones the code applies."""
    from harness.suite.limits import MAX_DEPTH, MAX_SWEEP_VARIANTS, MAX_VALUES
    from harness.suite.model import MAX_CONCURRENCY, MAX_TIMEOUT_S
    from harness.files.textfile import DEFAULT_MAX_FILE_MB, MAX_FILE_ENV

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits"):]
    section = section[: section.index("\n## ")]
    for text in (f"{DEFAULT_MAX_FILE_MB} MiB", MAX_FILE_ENV, f"{MAX_DEPTH} levels", f"{MAX_VALUES:,}", f"{MAX_SWEEP_VARIANTS:,}",
                 f"{MAX_CONCURRENCY:,}", f"{MAX_TIMEOUT_S:,.0f}"):
        assert text in section, text
