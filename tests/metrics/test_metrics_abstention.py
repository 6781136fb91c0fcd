"""Abstention: unanswerable examples (field, tag, empty reference) and how a decline is detected."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import write_suite
from harness.data.datasets import load_dataset
from harness.errors import DatasetError
from harness.metrics.abstention import Abstention, AbstentionConfig
from harness.metrics.base import metric_infos
from harness.suite.loader import parse_suite
from harness.types import Example, Response

UNANSWERABLE = Example(id="u", input="q", answerable=False)
ANSWERABLE = Example(id="a", input="q", reference="Paris")


def scores(response: Response, example: Example = UNANSWERABLE, **config: object) -> dict:
    metric = Abstention(AbstentionConfig(type="abstention", **config))  # type: ignore[arg-type]
    return {s.name: s for s in asyncio.run(metric.score(example, response))}


def test_each_score_applies_to_one_kind_of_example() -> None:
    refused = Response(text="I don’t  know.")
    on_unanswerable = scores(refused)
    assert on_unanswerable["declined_unanswerable"].value == 1.0
    assert on_unanswerable["declined_unanswerable"].reason == "declined: refusal phrase \"i don't know\""
    assert on_unanswerable["declined_answerable"].status == "undefined"
    assert on_unanswerable["declined_answerable"].reason == "example is unanswerable (answerable: false)"
    on_answerable = scores(refused, ANSWERABLE)
    assert on_answerable["declined_answerable"].value == 1.0  # a wrong decline
    assert on_answerable["declined_unanswerable"].reason == "example is answerable (has a reference answer)"
    answered = scores(Response(text="It is Lyon."))["declined_unanswerable"]
    assert answered.status == "ok" and answered.value == 0.0
    assert answered.reason == "answered: no system flag, answer not empty, no refusal phrase"


def test_declines_are_detected_by_flag_json_field_empty_answer_and_phrase() -> None:
    no_context = Response(text="The capital is Paris.", metadata={"declined": "no_relevant_context"})
    assert scores(no_context)["declined_unanswerable"].reason == (
        "declined: system flag 'no_relevant_context' (the rag system found no context above min_score)"
    )
    assert scores(no_context, system_flag=False)["declined_unanswerable"].value == 0.0
    null_field = Response(text='{"answer": null, "sources": []}')
    assert scores(null_field, json_field="answer")["declined_unanswerable"].reason == "declined: JSON field 'answer' is null"
    assert scores(null_field)["declined_unanswerable"].value == 0.0  # without json_field the text is not empty
    assert scores(Response(text='{"answer": "Lyon"}'), json_field="answer")["declined_unanswerable"].value == 0.0
    refusal_in_field = Response(text='{"answer": "Cannot answer from the context"}', parsed={"answer": "Cannot answer from the context"})
    assert scores(refusal_in_field, json_field="answer")["declined_unanswerable"].reason == "declined: refusal phrase 'cannot answer'"
    assert scores(Response(text="  "))["declined_unanswerable"].reason == "declined: empty answer"
    assert scores(Response(text="  "), empty_answer=False)["declined_unanswerable"].value == 0.0
    custom = scores(Response(text="Nope, out of scope."), phrases=["Out of scope"])["declined_unanswerable"]
    assert custom.reason == "declined: refusal phrase 'out of scope'"
    assert scores(Response(text="I don't know"), phrases=[])["declined_unanswerable"].value == 0.0


def test_which_examples_are_unanswerable() -> None:
    tagged = Example(id="t", input="q", reference="Paris", tags=["unanswerable"])
    assert scores(Response(text="Paris"), tagged)["declined_unanswerable"].detail["example"] == "tagged 'unanswerable'"
    empty = Example(id="e", input="q", reference="")
    unknown = scores(Response(text="x"), empty)
    assert {s.status for s in unknown.values()} == {"undefined"}
    assert "empty reference and is not marked answerable or unanswerable" in unknown["declined_unanswerable"].reason
    squad = scores(Response(text="x"), empty, empty_reference_unanswerable=True)["declined_unanswerable"]
    assert squad.value == 0.0 and squad.detail["example"] == "empty reference"
    nothing = scores(Response(text="x"), Example(id="n", input="q"))
    assert nothing["declined_answerable"].reason == "example has no reference and is not marked answerable or unanswerable"
    marked = Example(id="m", input="q", answerable=True)
    assert scores(Response(text="x"), marked)["declined_answerable"].value == 0.0


def test_direction_group_and_config_checks() -> None:
    infos = metric_infos([Abstention(AbstentionConfig(type="abstention"))])
    assert infos["declined_unanswerable"].higher_is_better and not infos["declined_answerable"].higher_is_better
    assert {i.group for i in infos.values()} == {"abstention"}
    with pytest.raises(ValidationError, match="every way to detect a decline is off"):
        AbstentionConfig(type="abstention", phrases=[], system_flag=False, empty_answer=False)
    with pytest.raises(ValidationError, match="phrases must not be empty strings"):
        AbstentionConfig(type="abstention", phrases=["  "])


def test_dataset_maps_the_answerable_column(tmp_path: Path) -> None:
    with (tmp_path / "data.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["id", "input", "reference", "can_answer"], ["1", "q1", "Paris", "yes"],
                          ["2", "q2", "", "FALSE"], ["3", "q3", "Rome", ""]])  # fmt: skip
    suite = parse_suite({"name": "u", "dataset": {"path": "data.csv", "fields": {"answerable": "can_answer"}},
                         "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}}, base_dir=tmp_path)  # fmt: skip
    examples = load_dataset(suite).test
    assert [e.answerable for e in examples] == [True, False, None]
    assert "can_answer" not in examples[0].metadata
    inline = {"name": "u", "dataset": {"inline": [{"input": "q", "answerable": "maybe"}]},
              "systems": {"s": {"kind": "prompt", "model": "scripted/echo"}}}  # fmt: skip
    with pytest.raises(DatasetError) as caught:
        load_dataset(parse_suite(inline, base_dir=tmp_path))
    assert caught.value.problems == ["dataset.inline[0]: 'answerable' must be true or false (or yes/no, 1/0), got 'maybe'"]


def test_a_run_reports_both_rates(tmp_path: Path) -> None:
    from harness import run_suite

    rows = [
        {"id": "a1", "input": "capital of France?", "reference": "Paris"},
        {"id": "a2", "input": "capital of Peru?", "reference": "Lima"},
        {"id": "u1", "input": "capital of Atlantis?", "reference": "", "answerable": False},
        {"id": "u2", "input": "capital of Narnia?", "reference": "", "tags": ["unanswerable"]},
    ]
    suite = {
        "name": "abstain",
        "dataset": {"inline": rows},
        "scripted_models": {"bot": {
            "rules": [{"match": "Atlantis|Peru", "output": "I do not know."}, {"match": "France", "output": "Paris"}],
            "default": "Cair Paravel",
        }},
        "systems": {"bot": {"kind": "prompt", "model": "scripted/bot"}},
        "metrics": ["abstention", {"type": "exact_match", "mode": "contains"}],
    }
    run = run_suite(write_suite(tmp_path, suite), out=tmp_path / "run", progress=False, reports=False)
    table = run.summary.set_index("metric")
    assert table.loc["declined_unanswerable", "mean"] == 0.5 and table.loc["declined_unanswerable", "n"] == 2
    assert table.loc["declined_answerable", "mean"] == 0.5 and table.loc["declined_answerable", "n"] == 2
    assert table.loc["contains_answer", "n"] == 2 and table.loc["contains_answer", "n_undefined"] == 2


def test_two_named_variants_in_one_suite(tmp_path: Path) -> None:
    from harness import run_suite

    rows = [{"id": "a1", "input": "capital of France?", "reference": "Paris"},
            {"id": "u1", "input": "capital of Atlantis?", "reference": "", "answerable": False}]  # fmt: skip
    suite = {
        "name": "abstain2",
        "dataset": {"inline": rows},
        "scripted_models": {"bot": {"rules": [{"match": "Atlantis", "output": "I do not know."}], "default": "Paris"}},
        "systems": {"bot": {"kind": "prompt", "model": "scripted/bot"}},
        "metrics": ["abstention", {"type": "abstention", "name": "strict", "phrases": ["no idea"]}],
    }
    parsed = parse_suite(suite, base_dir=tmp_path)
    assert [getattr(m, "name", None) for m in parsed.metrics] == ["declined", "strict"]
    infos = metric_infos([Abstention(m) for m in parsed.metrics])  # type: ignore[arg-type]
    assert infos["strict_unanswerable"].higher_is_better and not infos["strict_answerable"].higher_is_better
    run = run_suite(write_suite(tmp_path, suite), out=tmp_path / "run", progress=False, reports=False)
    table = run.summary.set_index("metric")
    assert table.loc["declined_unanswerable", "mean"] == 1.0 and table.loc["strict_unanswerable", "mean"] == 0.0
    assert table.loc["declined_answerable", "mean"] == 0.0 and table.loc["strict_answerable", "mean"] == 0.0
