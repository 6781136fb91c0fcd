"""Examples from JSONL, JSON, CSV, Parquet, a saved `datasets` folder, the Hub, or inline YAML.

The user's column names map onto ours through `fields`; columns we do not map are kept in
`Example.metadata` so templates can use them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from harness.data.values import as_flag, as_json, as_list, as_relevance, as_text, is_default
from harness.errors import DatasetError
from harness.data.example_list import ExampleList
from harness.files.jsonl import JsonlError, iter_jsonl
from harness.suite.model import DatasetSource, Suite
from harness.files.textfile import TextFileError, check_input_file, read_text
from harness.types import Example


@dataclass
class Dataset:
    test: ExampleList  # held until the run ends: compact
    train: list[Example]
    # every id the dataset holds (all splits, before `limit`): outputs recorded elsewhere (replay)
    # are checked against it. A list, not a set: it is held for the whole run, and a list is far smaller.
    known_ids: list[str] = field(default_factory=list)

    def content_hash(self) -> str:
        """The examples' JSON, one per line, hashed as it is made (no string of the whole dataset).
        An unset `answerable` is left out, so datasets without one hash as they did before it existed."""
        digest = hashlib.sha256()
        for i, example in enumerate(itertools.chain(self.test, self.train)):  # one example at a time
            if i:
                digest.update(b"\n")
            digest.update(example.model_dump_json(exclude={"answerable"} if example.answerable is None else None).encode())
        return digest.hexdigest()


def load_dataset(suite: Suite) -> Dataset:
    config = suite.dataset
    rows = _read_source(config, suite, "dataset")
    first_seen: dict[tuple[str, str], str] = {}
    examples = _to_examples(rows, config, "dataset", default_split=config.test_split, first_seen=first_seen)
    test = examples.in_split(config.test_split)
    train = list(examples.in_split(config.train_split))
    known_ids = examples.ids()
    if config.train is not None:
        train_rows = _read_source(config.train, suite, "dataset.train")
        extra = _to_examples(
            train_rows, config.train, "dataset.train", default_split=config.train_split, split="train", first_seen=first_seen
        )
        train += extra
        known_ids += extra.ids()
    if not test:
        splits = sorted({e.split for e in examples})
        hint = f" (splits found: {', '.join(splits)})" if splits else ""
        raise DatasetError(f"no examples in the {config.test_split!r} split{hint}", where="dataset")
    if config.limit:
        test = test[: config.limit]
    return Dataset(test=test, train=train, known_ids=known_ids)


def _read_source(source: DatasetSource, suite: Suite, where: str) -> Iterable[tuple[str, dict[str, Any]]]:
    """Rows with a position label (file:line) for error messages. JSONL rows are read as they
    are converted, so a large dataset is never held twice (as rows and as Examples)."""
    if source.inline is not None:
        return [(f"{where}.inline[{i}]", row) for i, row in enumerate(source.inline)]
    if source.hf is not None:
        return _read_hub(source, where)
    path = suite.resolve(source.path or "", where=f"{where}.path")
    if not path.exists() and not path.is_symlink():  # a broken or looping link is named by the reader
        raise DatasetError(f"file not found: {path}", where=f"{where}.path")
    fmt = source.format or _infer_format(path, where)
    if fmt != "hf_disk" and path.is_dir():
        raise DatasetError(f"{path} is a folder; format {fmt} needs a file", where=f"{where}.path")
    try:
        if fmt == "jsonl":
            return _not_empty(read_jsonl(path), path, where)
        elif fmt == "json":
            rows = _read_json(path)
        elif fmt == "csv":
            rows = _read_csv(path)
        elif fmt == "parquet":
            rows = _read_parquet(path)
        else:
            rows = _read_disk_dataset(path, source, where)
    except TextFileError as error:
        raise DatasetError(error.message, where=error.where) from None
    if not rows:
        raise DatasetError(f"{path} holds no rows", where=f"{where}.path")
    return rows


def _not_empty(rows: Iterable[tuple[str, dict[str, Any]]], path: Path, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    empty = True
    for row in rows:
        empty = False
        yield row
    if empty:
        raise DatasetError(f"{path} holds no rows", where=f"{where}.path")


def _read_json(path: Path) -> list[tuple[str, Any]]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DatasetError(f"not JSON ({error.msg})", where=f"{path}:{error.lineno}:{error.colno}") from None
    except RecursionError:
        raise DatasetError("not usable JSON (nested too deeply)", where=str(path)) from None
    if not isinstance(data, list):
        raise DatasetError("a JSON dataset must be a list of objects", where=str(path))
    return [(f"{path}[{i}]", row) for i, row in enumerate(data)]


def _read_csv(path: Path) -> list[tuple[str, Any]]:
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            # DictReader's line_num is the line the row ends on (a quoted cell may span lines)
            position = f"{path}:{reader.line_num}"
            if None in row:
                raise DatasetError(
                    f"more cells than the {len(reader.fieldnames or [])} header columns", where=position
                )
            rows.append((position, row))
    except csv.Error as error:
        raise DatasetError(f"not valid CSV ({error})", where=f"{path}:{reader.line_num}") from None
    return rows


def _read_parquet(path: Path) -> list[tuple[str, Any]]:
    import pandas as pd

    check_input_file(path)  # a regular file within the size limit, like every other format
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises many kinds; all mean "cannot read"
        raise DatasetError(f"cannot read as Parquet ({type(error).__name__}: {str(error)[:200]})", where=str(path)) from None
    return [(f"{path}[{i}]", _plain(row)) for i, row in enumerate(frame.to_dict(orient="records"))]


def _infer_format(path: Path, where: str) -> str:
    if path.is_dir():
        return "hf_disk"
    suffix = path.suffix.lower()
    known = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
    if suffix not in known:
        raise DatasetError(f"cannot tell the format of {path.name}; set format: jsonl|json|csv|parquet", where=f"{where}.path")
    return known[suffix]


def read_jsonl(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """Objects with their `file:line` (the one JSONL reader); a bad line is a DatasetError there."""
    try:
        for number, row in iter_jsonl(path, input_file=True):
            yield f"{path}:{number}", row
    except JsonlError as error:
        raise DatasetError(str(error.args[0]), where=error.where) from None


def _read_disk_dataset(path: Path, source: DatasetSource, where: str) -> list[tuple[str, dict[str, Any]]]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:  # noqa: BLE001 - not a saved dataset, or a damaged one
        raise DatasetError(
            f"not a folder saved by `datasets` ({type(error).__name__}: {str(error)[:200]})", where=f"{where}.path"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        split = source.hf_split or ("test" if "test" in loaded else next(iter(loaded)))
        loaded = loaded[split]
    return [(f"{path}[{i}]", _plain(row)) for i, row in enumerate(loaded)]


def _read_hub(source: DatasetSource, where: str) -> list[tuple[str, dict[str, Any]]]:
    import datasets

    try:
        loaded = datasets.load_dataset(source.hf, source.hf_config, split=source.hf_split or "test")
    except Exception as error:  # noqa: BLE001 - the hub raises many kinds; all mean "cannot load"
        raise DatasetError(
            f"cannot load Hugging Face dataset {source.hf!r} ({type(error).__name__}: {str(error)[:200]}); "
            "offline, save it with `datasets` and point `path:` at the folder",
            where=f"{where}.hf",
        ) from None
    return [(f"{source.hf}[{i}]", _plain(row)) for i, row in enumerate(loaded)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """numpy arrays and scalars from pandas/arrow -> plain Python values."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "tolist"):
            value = value.tolist()
        out[key] = value
    return out


def _to_examples(
    rows: Iterable[tuple[str, Any]],
    source: DatasetSource,
    where: str,
    *,
    default_split: str,
    split: str | None = None,
    first_seen: dict[tuple[str, str], str] | None = None,
    check_columns: bool = True,
) -> ExampleList:
    """Rows -> Examples; every bad row is reported (the first 20) with its position.
    `first_seen` maps (split, id) to the position that used it first, across sources. A column
    the suite names in `fields` itself that no row has is an error (`reference: answr` would
    otherwise leave every reference empty and every correctness score undefined)."""
    fields = source.fields
    mapped = {v for v in fields.model_dump().values() if v}
    named = _named_columns(source) if check_columns else {}
    columns: dict[str, None] = {}  # every column seen, in order (for the message on a misspelt one)
    first_seen = {} if first_seen is None else first_seen
    examples, problems = ExampleList(), []
    for index, (position, row) in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(f"{position}: not an object with named fields (got {type(row).__name__})")
            continue
        if named:
            columns.update(dict.fromkeys(k for k in row if k not in columns))
            named = {f: c for f, c in named.items() if c not in row}
        if fields.input not in row or row[fields.input] in (None, ""):
            problems.append(f"{position}: no {fields.input!r} value (map it with dataset.fields.input)")
            continue
        try:
            values = dict(
                id=str(row[fields.id]) if fields.id and row.get(fields.id) not in (None, "") else f"{where}-{index}",
                input=str(row[fields.input]),
                reference=as_text(row.get(fields.reference)) if fields.reference else None,
                reference_json=as_json(row.get(fields.reference_json)) if fields.reference_json else None,
                reference_doc_ids=as_list(row.get(fields.reference_doc_ids)) if fields.reference_doc_ids else [],
                reference_relevance=as_relevance(row.get(fields.reference_relevance)) if fields.reference_relevance else {},
                reference_contexts=as_list(row.get(fields.reference_contexts)) if fields.reference_contexts else [],
                tags=as_list(row.get(fields.tags)) if fields.tags else [],
                split=split or (str(row[fields.split]) if fields.split and row.get(fields.split) else default_split),
                answerable=as_flag(row.get(fields.answerable), fields.answerable) if fields.answerable else None,
                metadata={k: v for k, v in row.items() if k not in mapped},
            )
            # fields left at their default are not passed: the Example is the same, and smaller
            example = Example(**{k: v for k, v in values.items() if not is_default(k, v)})
        except (ValueError, TypeError) as error:
            problems.append(f"{position}: {error}")
            continue
        key = (example.split, example.id)
        if key in first_seen:
            problems.append(
                f"{position}: duplicate id {example.id!r} in the {example.split!r} split (first at {first_seen[key]})"
            )
        else:
            first_seen[key] = position
            examples.append(example)
    if problems:
        shown = problems[:20] + ([f"(and {len(problems) - 20} more)"] if len(problems) > 20 else [])
        raise DatasetError(f"{len(problems)} bad row(s)", where=where, problems=shown)
    if named and examples:  # a column the suite names that no row has: misspelt, or the wrong file
        found = ", ".join(map(str, columns)) or "none"
        raise DatasetError("columns not found", where=where, problems=[
            f"{where}.fields.{f}: no row has the column {c!r} (the rows' columns: {found})" for f, c in named.items()
        ])
    return examples


def _named_columns(source: DatasetSource) -> dict[str, str]:
    """{field: column} the suite names itself in `fields` (defaults left out: a dataset may well
    have no `reference` column); `input` is checked row by row already."""
    fields = source.fields
    return {f: c for f in type(fields).model_fields  # in declaration order: messages in a stable order
            if f in fields.model_fields_set and f != "input" and isinstance(c := getattr(fields, f), str)}


def read_examples(source: DatasetSource, suite: Suite, where: str, *, split: str = "test") -> ExampleList:
    """Every row of one source as examples of `split` (the updated phase's examples use this)."""
    own = source.fields is not suite.dataset.fields  # borrowed from the dataset: it may name columns these lack
    return _to_examples(_read_source(source, suite, where), source, where, default_split=split, split=split,
                        check_columns=own)
