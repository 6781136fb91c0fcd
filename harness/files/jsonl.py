"""The one JSONL reader: datasets, replay files, corpora and samples.jsonl all read through it.

One error policy: a line that is not a JSON object is an error naming `file:line` and why;
blank lines are skipped; a UTF-8 byte-order mark is accepted. With `torn_tail=True` (files
appended by a writer that may be killed mid-line) a last line without its newline is reported
as `torn`, so the caller can drop it instead of failing.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.files.textfile import TextFileError, check_input_file, decode_utf8

try:
    import orjson
except ImportError:  # a dependency; without it lines are read by json alone, as fast as that is
    orjson = None

# orjson reads an integer beyond 64 bits as a float (json keeps it exact): such a float is at
# least this large, so a line holding one is read again by json
_BEYOND_INT64 = 9.2e18
# ... and such an integer is written with at least 19 digits in a row: only a line that has
# 19 in a row can hold one (fractions can have them too; those lines are then looked into)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def parse_json(text: str | bytes) -> Any:
    """`json.loads(text)` (bytes as UTF-8), faster on the lines a run writes: through orjson,
    except where the two could differ. A line with a float
    of 9.2e18 or more may have held an integer beyond 64 bits, and goes to json; so does what
    orjson refuses (NaN, lone surrogates, bad UTF-8), and json returns it or raises its error."""
    if orjson is not None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if not _long_digit_run(text) or not _holds_huge_float(value):
                return value
    return json.loads(text if isinstance(text, str) else text.decode("utf-8"))


def _long_digit_run(text: str | bytes) -> bool:
    """Whether `text` has 19 digits in a row: a scan of the raw text, cheaper than looking
    through the parsed value for a huge float, which is then done only when this finds one."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return _LONG_RUN in raw.translate(_DIGITS_AS_ZERO)


def _holds_huge_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float and not -_BEYOND_INT64 < item < _BEYOND_INT64:
            return True
    return False


class JsonlError(HarnessError):
    """A line that is not a JSON object; `torn` when it is an unfinished last line."""

    def __init__(self, message: str, *, where: str, line: int, torn: bool = False):
        super().__init__(message, where=where)
        self.line = line
        self.torn = torn


def iter_jsonl(path: str | Path, *, torn_tail: bool = False, input_file: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path`, read one line at a time.
    `input_file`: the user's file (dataset, corpus, replay), held to harness.files.textfile's bounds
    (a regular file within the size limit), so no line can be endless."""
    path = Path(path)
    if input_file:
        try:
            check_input_file(path)
        except TextFileError as error:
            raise JsonlError(error.message, where=error.where, line=0) from None
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
            except RecursionError:
                raise JsonlError("not usable JSON (nested too deeply)", where=f"{path}:{number}",
                                 line=number, torn=torn) from None
            if torn:
                # a complete object without its newline: the writer was killed before "\n"
                raise JsonlError("an unfinished last line", where=f"{path}:{number}", line=number, torn=True)
            if not isinstance(row, dict):
                raise JsonlError(f"not a JSON object (got {type(row).__name__})", where=f"{path}:{number}", line=number)
            yield number, row
