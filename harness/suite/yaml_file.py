"""A suite file read as YAML into its mapping, with located errors, before any validation.

`load_suite` builds on it, and so do the commands that read one section of a suite on its own
(`harness gate` its `gate:`, `harness decide --suite` its `decision:` and `cost:`), so every
reader refuses the same malformed files the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import SuiteError
from harness.suite.limits import MAX_DEPTH, size_problems
from harness.files.textfile import TextFileError, read_text


def read_suite_file(path: Path) -> tuple[dict[str, Any], str]:
    """The file's mapping (not validated) and its text; a SuiteError that says where otherwise.
    Commands that read one section of a suite (`gate`, `decide --suite`) use it too."""
    if not path.exists() and not path.is_symlink():
        raise SuiteError("suite file not found", where=str(path))
    try:
        text = read_text(path)  # a regular file within the size limit: not a folder, FIFO or device
    except TextFileError as error:
        raise SuiteError(error.message, where=error.where) from None
    try:
        raw = yaml.load(text, Loader=_SuiteYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        prefix = "" if isinstance(error, _TooDeep) else "malformed YAML: "
        raise SuiteError(f"{prefix}{problem}", where=where) from None
    if raw is None:
        raise SuiteError("the file is empty; a suite needs at least name, dataset and systems", where=str(path))
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else f"a single {type(raw).__name__} value"
        raise SuiteError(f"the file must hold a mapping (name, dataset, systems, ...), not {kind}", where=str(path))
    if problems := size_problems(raw):  # every reader of a section (gate, decide) walks it too
        raise SuiteError("the suite is too large to read", where=str(path), problems=problems)
    return raw, text


class _TooDeep(yaml.composer.ComposerError):
    """Nesting beyond the limit: valid YAML, but not a suite the harness reads."""


class _SuiteYamlLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (plain YAML keeps the last silently,
    so a second system under the same name would replace the first unnoticed), and nesting deeper
    than harness.suite.limits.MAX_DEPTH (the reader recurses: Python's stack would run out first)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:  # the file's own mapping, then MAX_DEPTH levels
                mark = self.peek_event().start_mark
                raise _TooDeep(None, None, f"nested more than {MAX_DEPTH} levels deep (the limit for a suite)", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` then explicit keys is an override, not a duplicate
            key = self.construct_object(key_node, deep=True)
            try:
                seen_at = first.get(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if seen_at is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {seen_at + 1})", key_node.start_mark
                )
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)
