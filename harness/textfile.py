"""Reading the user's text files (suite, dataset, schema, corpus): UTF-8, and every failure located.

A file that is not UTF-8 is named with the line and column of its first bad byte, so the user
can find it, instead of a Python traceback from deep inside a decoder.
"""

from __future__ import annotations

import codecs
from pathlib import Path


class TextFileError(Exception):
    """`where` is `path` or `path:line:column`; `message` says what is wrong there."""

    def __init__(self, message: str, where: str):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}")


def decode_utf8(data: bytes, name: str) -> str:
    """UTF-8 text (a leading BOM is dropped); bad bytes raise TextFileError at `name:line:column`."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        byte = data[error.start]
        raise TextFileError(
            f"not UTF-8 text (byte 0x{byte:02x}: {error.reason}); save the file as UTF-8",
            where=f"{name}:{line}:{column}",
        ) from None


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, folder or unreadable path raises TextFileError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TextFileError("file not found", where=str(path)) from None
    except IsADirectoryError:
        raise TextFileError("is a folder, not a file", where=str(path)) from None
    except OSError as error:
        raise TextFileError(f"cannot read ({error.strerror or error})", where=str(path)) from None


def read_text(path: Path) -> str:
    """The file as UTF-8 text; every failure is a TextFileError that says where."""
    return decode_utf8(read_bytes(path), str(path))
