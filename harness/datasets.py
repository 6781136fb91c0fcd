"""Examples from JSONL, JSON, CSV, Parquet, a saved `datasets` folder, the Hub, or inline YAML.

The user's column names map onto ours through `fields`; columns we do not map are kept in
`Example.metadata` so templates can use them.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.errors import DatasetError
from harness.suite.model import DatasetSource, Suite
from harness.types import Example


@dataclass
class Dataset:
    test: list[Example]
    train: list[Example]

    def content_hash(self) -> str:
        # an unset `answerable` is left out, so datasets without one hash as they did before it existed
        blob = "\n".join(
            e.model_dump_json(exclude={"answerable"} if e.answerable is None else None) for e in [*self.test, *self.train]
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def load_dataset(suite: Suite) -> Dataset:
    config = suite.dataset
    rows = _read_source(config, suite, "dataset")
    examples = _to_examples(rows, config, "dataset", default_split=config.test_split)
    test = [e for e in examples if e.split == config.test_split]
    train = [e for e in examples if e.split == config.train_split]
    if config.train is not None:
        train_rows = _read_source(config.train, suite, "dataset.train")
        train += _to_examples(train_rows, config.train, "dataset.train", default_split=config.train_split, split="train")
    _check_unique(test, "test")
    _check_unique(train, "train")
    if not test:
        splits = sorted({e.split for e in examples})
        hint = f" (splits found: {', '.join(splits)})" if splits else ""
        raise DatasetError(f"no examples in the {config.test_split!r} split{hint}", where="dataset")
    if config.limit:
        test = test[: config.limit]
    return Dataset(test=test, train=train)


def _read_source(source: DatasetSource, suite: Suite, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Rows with a position label (file:line) for error messages."""
    if source.inline is not None:
        return [(f"{where}.inline[{i}]", row) for i, row in enumerate(source.inline)]
    if source.hf is not None:
        return _read_hub(source, where)
    path = suite.resolve(source.path or "")
    if not path.exists():
        raise DatasetError(f"file not found: {path}", where=f"{where}.path")
    fmt = source.format or _infer_format(path, where)
    try:
        if fmt == "jsonl":
            return list(read_jsonl(path))
        if fmt == "json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise DatasetError("a JSON dataset must be a list of objects", where=str(path))
            return [(f"{path}[{i}]", row) for i, row in enumerate(data)]
        if fmt == "csv":
            with path.open(newline="", encoding="utf-8") as handle:
                return [(f"{path}:{i + 2}", row) for i, row in enumerate(csv.DictReader(handle))]
        if fmt == "parquet":
            import pandas as pd

            frame = pd.read_parquet(path)
            return [(f"{path}[{i}]", _plain(row)) for i, row in enumerate(frame.to_dict(orient="records"))]
        return _read_disk_dataset(path, source, where)
    except UnicodeDecodeError as error:
        raise DatasetError(f"not UTF-8 text ({error.reason})", where=str(path)) from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"not JSON: {error.msg} at line {error.lineno}", where=str(path)) from None


def _infer_format(path: Path, where: str) -> str:
    if path.is_dir():
        return "hf_disk"
    suffix = path.suffix.lower()
    known = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
    if suffix not in known:
        raise DatasetError(f"cannot tell the format of {path.name}; set format: jsonl|json|csv|parquet", where=f"{where}.path")
    return known[suffix]


def read_jsonl(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """Objects with their `file:line`; blank lines skipped, a bad line is a DatasetError."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"line {number} is not JSON ({error.msg})", where=str(path)) from None
            if not isinstance(row, dict):
                raise DatasetError(f"line {number} is not a JSON object", where=str(path))
            yield f"{path}:{number}", row


def _read_disk_dataset(path: Path, source: DatasetSource, where: str) -> list[tuple[str, dict[str, Any]]]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
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
    rows: list[tuple[str, dict[str, Any]]], source: DatasetSource, where: str, *, default_split: str, split: str | None = None
) -> list[Example]:
    fields = source.fields
    mapped = {v for v in fields.model_dump().values() if v}
    examples, problems = [], []
    for index, (position, row) in enumerate(rows):
        if fields.input not in row or row[fields.input] in (None, ""):
            problems.append(f"{position}: no {fields.input!r} value (map it with dataset.fields.input)")
            continue
        try:
            examples.append(
                Example(
                    id=str(row[fields.id]) if fields.id and row.get(fields.id) not in (None, "") else f"{where}-{index}",
                    input=str(row[fields.input]),
                    reference=_text(row.get(fields.reference)) if fields.reference else None,
                    reference_json=_json_value(row.get(fields.reference_json)) if fields.reference_json else None,
                    reference_doc_ids=_list(row.get(fields.reference_doc_ids)) if fields.reference_doc_ids else [],
                    reference_relevance=_relevance(row.get(fields.reference_relevance)) if fields.reference_relevance else {},
                    reference_contexts=_list(row.get(fields.reference_contexts)) if fields.reference_contexts else [],
                    tags=_list(row.get(fields.tags)) if fields.tags else [],
                    split=split or (str(row[fields.split]) if fields.split and row.get(fields.split) else default_split),
                    answerable=_flag(row.get(fields.answerable), fields.answerable) if fields.answerable else None,
                    metadata={k: v for k, v in row.items() if k not in mapped},
                )
            )
        except (ValueError, TypeError) as error:
            problems.append(f"{position}: {error}")
    if problems:
        raise DatasetError(f"{len(problems)} bad row(s)", where=where, problems=problems[:20])
    return examples


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _list(value: Any) -> list[str]:
    """Lists stay lists; CSV cells hold JSON lists or `a;b` / `a|b` / `a,b` separated values."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        for sep in (";", "|", ","):
            if sep in text:
                return [p.strip() for p in text.split(sep) if p.strip()]
        return [text]
    return [str(value)]


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _flag(value: Any, column: str) -> bool | None:
    """A yes/no cell: JSON booleans, 0/1, or true/false/yes/no text (any case); empty: not said."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{column!r} must be true or false (or yes/no, 1/0), got {value!r}")


def _relevance(value: Any) -> dict[str, float]:
    value = _json_value(value)
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError("reference relevance must map document ids to grades")
    return {str(k): float(v) for k, v in value.items()}


def _check_unique(examples: list[Example], split: str) -> None:
    seen: dict[str, int] = {}
    for example in examples:
        seen[example.id] = seen.get(example.id, 0) + 1
    duplicates = sorted(i for i, n in seen.items() if n > 1)
    if duplicates:
        shown = ", ".join(duplicates[:10]) + (" ..." if len(duplicates) > 10 else "")
        raise DatasetError(f"duplicate example ids in the {split} split: {shown}", where="dataset")
