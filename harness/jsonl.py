"""The one JSONL reader: datasets, replay files, corpora and samples.jsonl all read through it.

One error policy: a line that is not a JSON object is an error naming `file:line` and why;
blank lines are skipped; a UTF-8 byte-order mark is accepted. With `torn_tail=True` (files
appended by a writer that may be killed mid-line) a last line without its newline is reported
as `torn`, so the caller can drop it instead of failing.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.textfile import TextFileError, decode_utf8

try:
    import orjson
except ImportError:  # a dependency; without it lines are read by json alone, as fast as that is
    orjson = None

_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def parse_json(text: str | bytes) -> Any:
    """`json.loads(text)` (bytes as UTF-8), 2-3x faster on the lines a run writes: through
    orjson, except where the two could differ. orjson reads an integer beyond 64 bits as a float
    where json keeps it exact, so text with 19 digits in a row goes to json; what orjson refuses
    (NaN, lone surrogates, bad UTF-8) goes to json too, which returns it or raises its usual error."""
    if orjson is not None:
        long_digits = (_LONG_DIGITS if isinstance(text, str) else _LONG_DIGITS_BYTES).search(text)  # type: ignore[arg-type]
        if long_digits is None:
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                pass
    return json.loads(text if isinstance(text, str) else text.decode("utf-8"))


class JsonlError(HarnessError):
    """A line that is not a JSON object; `torn` when it is an unfinished last line."""

    def __init__(self, message: str, *, where: str, line: int, torn: bool = False):
        super().__init__(message, where=where)
        self.line = line
        self.torn = torn


def iter_jsonl(path: str | Path, *, torn_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path`, read one line at a time."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise JsonlError("file not found", where=str(path), line=0) from None
    except OSError as error:
        raise JsonlError(f"cannot read ({error.strerror or error})", where=str(path), line=0) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            if not raw.strip():
                continue
            torn = torn_tail and not raw.endswith(b"\n")
            try:
                text = decode_utf8(raw, f"{path}").rstrip("\r\n")
            except TextFileError as error:
                column = error.where.rsplit(":", 1)[-1]
                raise JsonlError(error.message, where=f"{path}:{number}:{column}", line=number, torn=torn) from None
            try:
                row = parse_json(text)
            except json.JSONDecodeError as error:
                raise JsonlError(f"not JSON ({error.msg})", where=f"{path}:{number}:{error.colno}",
                                 line=number, torn=torn) from None
            if torn:
                # a complete object without its newline: the writer was killed before "\n"
                raise JsonlError("an unfinished last line", where=f"{path}:{number}", line=number, torn=True)
            if not isinstance(row, dict):
                raise JsonlError(f"not a JSON object (got {type(row).__name__})", where=f"{path}:{number}", line=number)
            yield number, row
