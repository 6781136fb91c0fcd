"""Reading the user's text files (suite, dataset, schema, corpus): UTF-8, and every failure located.

A file that is not UTF-8 is named with the line and column of its first bad byte, so the user
can find it, instead of a Python traceback from deep inside a decoder.

Only regular files no larger than `max_file_bytes()` are read (`check_input_file`): a FIFO
would hang the read, `/dev/zero` would fill memory, and a loop of symbolic links has no file
at its end. Each of these is a TextFileError naming the path, before a byte is read.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path

# the largest suite, dataset, schema, corpus or replay file read (HARNESS_MAX_FILE_MB overrides)
DEFAULT_MAX_FILE_MB = 512
MAX_FILE_ENV = "HARNESS_MAX_FILE_MB"


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


def max_file_bytes() -> int:
    """The size limit on an input file: $HARNESS_MAX_FILE_MB mebibytes, else 512."""
    value = os.environ.get(MAX_FILE_ENV, "").strip()
    try:
        megabytes = float(value) if value else DEFAULT_MAX_FILE_MB
    except ValueError:
        megabytes = DEFAULT_MAX_FILE_MB
    if not 0 < megabytes < 2**40:  # nan and inf too
        megabytes = DEFAULT_MAX_FILE_MB
    return int(megabytes * 2**20)


def _size_text(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size:,} bytes"


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_input_file(path: Path) -> int:
    """The size of `path`, a regular file within the size limit; a TextFileError otherwise
    (missing, a folder, a FIFO or device, a loop of symbolic links, too large)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise TextFileError("file not found", where=str(path)) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise TextFileError("a loop of symbolic links: it leads to no file", where=str(path)) from None
        raise TextFileError(f"cannot read ({error.strerror or error})", where=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise TextFileError("is a folder, not a file", where=str(path))
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        raise TextFileError(f"is {kind}, not a regular file; give a file", where=str(path))
    limit = max_file_bytes()
    if info.st_size > limit:
        raise TextFileError(
            f"is {_size_text(info.st_size)}, above the {_size_text(limit)} limit on input files "
            f"(set {MAX_FILE_ENV} to raise it)", where=str(path))
    return info.st_size


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, folder, special, too large or unreadable path raises TextFileError."""
    check_input_file(path)  # a regular file, so its size is known: the read below is bounded
    try:
        return path.read_bytes()
    except OSError as error:
        raise TextFileError(f"cannot read ({error.strerror or error})", where=str(path)) from None


def read_text(path: Path) -> str:
    """The file as UTF-8 text; every failure is a TextFileError that says where."""
    return decode_utf8(read_bytes(path), str(path))
