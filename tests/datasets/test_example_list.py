"""The compact test set: reading it back gives the very examples put in (values and the fields
given), whatever their shape, and the list operations the run uses never lose one."""

from __future__ import annotations

from pathlib import Path

from harness.data.datasets import Dataset, load_dataset
from harness.data.example_list import ExampleList
from harness.data.leakage import check_leakage
from harness.suite.loader import parse_suite
from harness.types import Example

EXAMPLES = [
    Example(id="a", input="plain"),
    Example(id="b", input="full", reference="r", reference_json={"k": [1, 2.5, None]}, reference_doc_ids=["d1"],
            reference_relevance={"d1": 2.0}, reference_contexts=["c"], tags=["hard"], split="test",
            metadata={"n": 3, "nested": {"x": [True]}}, answerable=False),
    Example(id="c", input="tagged", tags=["unanswerable"], split="train"),
    Example(id="d", input="plain too"),
]


def test_reads_give_back_the_same_examples_and_fields_given():
    examples = ExampleList(EXAMPLES)
    assert len(examples) == 4
    for original, read in zip(EXAMPLES, examples):
        assert read == original
        assert read.model_fields_set == original.model_fields_set
        assert read.model_dump_json() == original.model_dump_json()
    assert examples[1] == EXAMPLES[1] and examples[-1] == EXAMPLES[-1]
    assert examples[2].unanswerable and examples[1].unanswerable  # the tag, and answerable: false
    assert examples == EXAMPLES and examples != EXAMPLES[:3] and examples != EXAMPLES[::-1]


def test_each_read_is_a_new_example_with_its_own_lists():
    examples = ExampleList(EXAMPLES)
    first = examples[0]
    first.tags.append("changed")
    examples[1].reference_doc_ids.append("d2")
    assert examples[0].tags == [] and examples[1].reference_doc_ids == ["d1"]
    assert examples[0] is not examples[0]


def test_slices_splits_and_exclusions_keep_examples_whole():
    examples = ExampleList(EXAMPLES)
    head = examples[:2]
    assert isinstance(head, ExampleList) and list(head) == EXAMPLES[:2]
    assert examples[::2] == [EXAMPLES[0], EXAMPLES[2]]
    assert examples.ids() == ["a", "b", "c", "d"]
    assert [e.id for e in examples.in_split("test")] == ["a", "b", "d"]  # split left at its default counts
    assert [e.id for e in examples.in_split("train")] == ["c"]
    kept = examples.without_ids(["b", "zz"])
    assert kept == [EXAMPLES[0], EXAMPLES[2], EXAMPLES[3]] and len(examples) == 4
    head.append(Example(id="e", input="new shape", reference_contexts=["x"]))  # a shape the parent lacks
    assert head[-1].reference_contexts == ["x"] and examples[1] == EXAMPLES[1]


def test_the_dataset_hash_and_leak_exclusion_are_unchanged_by_holding_examples_compactly(tmp_path: Path):
    rows = [{"id": f"q{i}", "input": f"question {i}", "reference": f"r{i}", "tags": ["t"] if i % 2 else []} for i in range(6)]
    suite = parse_suite({"name": "d", "dataset": {"inline": rows + [{"id": "t0", "input": "Question 1!", "split": "train"}]},
                         "systems": {"a": {"kind": "prompt", "model": "scripted/echo"}}}, base_dir=tmp_path)
    dataset = load_dataset(suite)
    assert isinstance(dataset.test, ExampleList) and dataset.test.ids() == [f"q{i}" for i in range(6)]
    as_objects = Dataset(test=list(dataset.test), train=list(dataset.train))  # type: ignore[arg-type]
    assert dataset.content_hash() == as_objects.content_hash()
    leakage = check_leakage(dataset.test, dataset.train)
    assert leakage.test_ids == ["q1"]
    kept = leakage.exclude(dataset.test)
    assert isinstance(kept, ExampleList) and kept.ids() == ["q0", "q2", "q3", "q4", "q5"]
    assert leakage.exclude(list(dataset.test)).ids() == kept.ids()
