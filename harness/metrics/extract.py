"""Getting the answer out of an output: a JSON field when the output is JSON, else the text.

JSON is read strictly (RFC 8259): `NaN`, `Infinity` and `-Infinity` are not JSON, and neither is
a number too big for a double (`1e400`, which Python would read as inf), so an output holding them
is not parsed. Integers of any length up to MAX_INT_DIGITS are read exactly (Python's own limit
is 4300 digits); a longer one is rejected as "number too large", so a huge output cannot make
the conversion slow. Duplicate keys are JSON but ambiguous: the last one wins, as in JavaScript,
and `read_json` reports them. A fenced code block (CommonMark: three or more backticks or tildes,
closed by a fence of the same character at least as long, or by the end of the text) tagged json
in any case, or untagged, is the fallback; every such block is tried in order, then ``` blocks
that open or close mid-line, as models write them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.types import Response

_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})[ \t]*(.*?)[ \t]*")
_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_INLINE_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[ \t]*\r?\n?(.*?)```", re.S)
MAX_INT_DIGITS = 100_000
_CHUNK = 4000  # digits per piece, under Python's 4300-digit int(str) limit


class _NotJson(ValueError):
    pass


@dataclass
class JsonRead:
    """The outcome of reading an output as JSON: `how` is strict, fenced or None (not JSON)."""

    value: Any = None
    how: str | None = None
    error: str | None = None
    duplicate_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.how is not None


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number (RFC 8259)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(f"{text[:40]} is out of range (a double holds at most about 1.8e308): not a finite number")
    return value


def _long_int(text: str) -> int:
    """int(text) past Python's 4300-digit limit, in pieces, up to MAX_INT_DIGITS digits."""
    digits = text.lstrip("-")
    if len(digits) <= _CHUNK:
        return int(text)
    if len(digits) > MAX_INT_DIGITS:
        raise _NotJson(f"number too large: an integer of {len(digits)} digits (the limit is {MAX_INT_DIGITS})")
    value = _join_digits(digits)
    return -value if text.startswith("-") else value


def int_text(value: int) -> str:
    """str(value) for integers past Python's 4300-digit limit too (read_json can return them)."""
    if abs(value) < 10**_CHUNK:
        return str(value)
    high, low = divmod(abs(value), 10**_CHUNK)
    return ("-" if value < 0 else "") + int_text(high) + str(low).zfill(_CHUNK)


def _join_digits(digits: str) -> int:
    if len(digits) <= _CHUNK:
        return int(digits)
    half = len(digits) // 2
    return _join_digits(digits[:half]) * 10 ** (len(digits) - half) + _join_digits(digits[half:])


def loads_strict(text: str) -> tuple[Any, list[str]]:
    """json.loads without NaN, infinities or over-long integers; returns (value, JSON paths of duplicated keys).
    Raises ValueError (json.JSONDecodeError for syntax) when the text is not strict JSON."""
    duplicates: list[tuple[str, dict[str, Any]]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append((key, seen))
            seen[key] = value
        return seen

    value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_long_int,
                       object_pairs_hook=pairs)
    if not duplicates:
        return value, []
    paths = _object_paths(value)
    return value, list(dict.fromkeys(_member(paths.get(id(obj), "$"), key) for key, obj in duplicates))


def _object_paths(value: Any, path: str = "$", found: dict[int, str] | None = None) -> dict[int, str]:
    """id(object) -> its JSON path, for every object in a parsed value."""
    found = {} if found is None else found
    if isinstance(value, dict):
        found[id(value)] = path
        for key, child in value.items():
            _object_paths(child, _member(path, key), found)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _object_paths(child, f"{path}[{i}]", found)
    return found


def _member(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{json.dumps(key)}]"


def _error_text(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if str(error).startswith("number too large"):
        return f"JSON not read: {error}"  # valid JSON, but past what we convert
    return f"not valid JSON: {error}"


def fenced_blocks(text: str) -> list[str]:
    """The bodies of the fenced code blocks tagged json (any case) or untagged, in order."""
    blocks: list[str] = []
    lines = (text or "").splitlines()
    i = 0
    while i < len(lines):
        opened = _OPEN.fullmatch(lines[i])
        i += 1
        if not opened or (opened.group(2)[0] == "`" and "`" in opened.group(3)):
            continue  # a backtick fence's info string holds no backtick (else it is inline code)
        indent, fence, info = len(opened.group(1)), opened.group(2), opened.group(3)
        body: list[str] = []
        while i < len(lines):
            closing = _CLOSE.fullmatch(lines[i])
            i += 1
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                break
            body.append(re.sub(f"^ {{0,{indent}}}", "", lines[i - 1]))
        tag = info.split(None, 1)[0] if info.strip() else ""
        if tag.lower() in ("", "json"):
            blocks.append("\n".join(body))
    # Models also open a fence mid-line ("Sure! ```json") or close it on the same line, which
    # CommonMark does not call a fence: those blocks are tried after the CommonMark ones.
    blocks += [body for tag, body in _INLINE_FENCE.findall(text or "") if tag.lower() in ("", "json") and body not in blocks]
    return blocks


def read_json(text: str | None, allow_fenced: bool = True) -> JsonRead:
    """Strict parse of the whole text, else (when allowed) the first fenced block that parses."""
    if not isinstance(text, str):
        return JsonRead(error="not valid JSON: no text")
    try:
        value, duplicates = loads_strict(text)
        return JsonRead(value, "strict", duplicate_keys=duplicates)
    except ValueError as error:
        first_error = _error_text(error)
    blocks = fenced_blocks(text) if allow_fenced else []
    for body in blocks:
        try:
            value, duplicates = loads_strict(body)
            return JsonRead(value, "fenced", duplicate_keys=duplicates)
        except ValueError as error:
            if body is blocks[0]:
                first_error = f"no fenced block parses (the first: {_error_text(error)})"
    return JsonRead(error=first_error)


def parse_json(text: str) -> tuple[Any, str | None]:
    """Strict parse first; then a fenced block. Returns (value, how) or (None, None)."""
    read = read_json(text)
    return read.value, read.how


def non_finite_path(value: Any, path: str = "$") -> str | None:
    """The JSON path of a NaN or infinite float in an already-parsed value (None when all finite):
    such a value cannot come from JSON, so a structured output holding one is not JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return path
    if isinstance(value, dict):
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for child_path, child in items:
        found = non_finite_path(child, child_path)
        if found:
            return found
    return None


def get_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def answer_text(response: Response, json_field: str | None) -> tuple[str, str]:
    """The text to grade and where it came from: `json:<field>` or `raw`."""
    if json_field:
        parsed = response.parsed
        if parsed is None:
            parsed, _ = parse_json(response.text)
        value = get_path(parsed, json_field) if parsed is not None else None
        if value is not None:
            return int_text(value) if isinstance(value, int) else str(value), f"json:{json_field}"
    return response.text, "raw"


def find_json_object(text: str) -> tuple[Any, str | None]:
    """parse_json, then the first balanced {...} or [...] span in the text (`embedded`)."""
    value, how = parse_json(text)
    if how is not None:
        return value, how
    decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_long_int)
    for start, char in enumerate(text or ""):
        if char in "{[":
            try:
                return decoder.raw_decode(text, start)[0], "embedded"
            except ValueError:
                continue
    return None, None
