"""Paths in a suite file: relative ones are read from the suite's folder and must stay inside it.

A suite folder is what a team commits and what a baseline points back to; a relative path that
climbs out of it (`../data.jsonl`) silently depends on the layout around it. Such a path is an
error; data kept elsewhere is named by an absolute path (or `~/...`), which says so explicitly.
The check is on the path as written (`..` segments), not on where symbolic links lead: a link
the user put in the suite folder is as explicit as an absolute path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

from harness.errors import SuiteError


def resolve_in_folder(base_dir: Path, value: str | Path, *, where: str = "suite") -> Path:
    """`value` made absolute against `base_dir`; a relative path leading outside it is a SuiteError."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    problem = escape_problem(base_dir, value)
    if problem:
        raise SuiteError(problem, where=where)
    return base_dir / path


def escape_problem(base_dir: Path, value: str | Path) -> str | None:
    """Why `value` may not be used as a relative path from `base_dir`, or None when it may."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return None
    base = Path(os.path.normpath(base_dir))
    target = Path(os.path.normpath(base / path))
    if target == base or base in target.parents:
        return None
    return (
        f"{str(value)!r} leads outside the suite folder {base}; relative paths must stay inside it "
        "(give an absolute path for data kept elsewhere)"
    )


def suite_path_problems(suite: Any) -> list[str]:
    """Every relative path in the suite that leaves the suite folder, each with its location."""
    return [
        f"{where}: {problem}"
        for where, value in suite_paths(suite)
        if (problem := escape_problem(suite.base_dir, value))
    ]


def suite_paths(suite: Any) -> Iterator[tuple[str, str]]:
    """(location, path) for the file paths a suite names: dataset, corpus, schemas, system files."""
    dataset = suite.dataset
    if dataset.path is not None:
        yield "dataset.path", dataset.path
    if dataset.train is not None and dataset.train.path is not None:
        yield "dataset.train.path", dataset.train.path
    if suite.corpus is not None:
        yield "corpus.path", suite.corpus.path
    updates = getattr(suite, "updates", None)
    if updates is not None:
        yield "updates.corpus.path", updates.corpus.path
        if updates.examples.path is not None:
            yield "updates.examples.path", updates.examples.path
    if suite.answer_format is not None and isinstance(suite.answer_format.json_schema, str):
        yield "answer_format.schema", suite.answer_format.json_schema
    for index, metric in enumerate(suite.metrics):
        if isinstance(getattr(metric, "json_schema", None), str):
            yield f"metrics[{index}].schema", metric.json_schema
    for name, system in suite.systems.items():
        # a system's own file (replay's `path`) and its own corpus, whatever its kind
        if isinstance(getattr(system, "path", None), str):
            yield f"systems.{name}.path", system.path
        corpus = getattr(system, "corpus", None)
        if corpus is not None and isinstance(getattr(corpus, "path", None), str):
            yield f"systems.{name}.corpus.path", corpus.path
