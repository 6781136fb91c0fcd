"""ECMA-262 regular expressions (the dialect JSON Schema's `pattern` is written in) as Python `re`.

JSON Schema patterns are ECMA-262 with Unicode semantics: `\\d` and `\\w` are ASCII, `\\s` is
Unicode white space, `$` is the end of the input (not before a trailing newline), `.` stops at
every line terminator, `\\p{Letter}` names a Unicode property, `\\cX` is a control character.
Python's `re` differs on each, so a pattern is translated into an equivalent `re` pattern
(property classes are expanded to code point ranges with the `regex` package's Unicode tables).
`strict` follows ECMA's Unicode mode to the letter (an unknown escape such as `\\a` is an error:
the `regex` format); without it, an escaped punctuation character is taken literally, as most
engines do, so a schema written for a lenient engine still compiles.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_CODE_POINT = 0x10FFFF
_SYNTAX = set("^$\\.*+?()[]{}|/")
_DIGIT = [(0x30, 0x39)]
_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
          (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]
_LINE_END = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]
_CONTROL = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D}
_WORD_BOUNDARY = r"(?:(?<=[0-9A-Z_a-z])(?![0-9A-Z_a-z])|(?<![0-9A-Z_a-z])(?=[0-9A-Z_a-z]))"
_NOT_WORD_BOUNDARY = r"(?:(?<=[0-9A-Z_a-z])(?=[0-9A-Z_a-z])|(?<![0-9A-Z_a-z])(?![0-9A-Z_a-z]))"

Ranges = list[tuple[int, int]]


class EcmaRegexError(ValueError):
    """The pattern is not a valid ECMA-262 regular expression (or has no Python equivalent)."""


def complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return out


def _char(code: int) -> str:
    if 0x20 < code < 0x7F:
        return re.escape(chr(code))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _class(ranges: Ranges, negate: bool = False) -> str:
    if not ranges:
        return "[^\\x00-\\U0010ffff]" if not negate else "[\\x00-\\U0010ffff]"
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    return f"[{'^' if negate else ''}{body}]"


@lru_cache(maxsize=1)
def _all_code_points() -> str:
    return "".join(map(chr, range(MAX_CODE_POINT + 1)))


@lru_cache(maxsize=256)
def property_ranges(name: str) -> tuple[tuple[int, int], ...]:
    """Code point ranges of a Unicode property (`Letter`, `L`, `Script=Greek`, ...)."""
    import regex

    try:
        found = regex.compile(f"\\p{{{name}}}+")
    except regex.error:
        raise EcmaRegexError(f"unknown Unicode property \\p{{{name}}}") from None
    return tuple((m.start(), m.end() - 1) for m in found.finditer(_all_code_points()))


class _Translator:
    def __init__(self, pattern: str, strict: bool):
        self.src, self.strict, self.pos, self.out = pattern, strict, 0, []
        self.groups, self.names, self.backrefs = 0, set(), []

    def error(self, message: str) -> EcmaRegexError:
        return EcmaRegexError(f"{message} at position {self.pos}")

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.src[index] if index < len(self.src) else ""

    def translate(self) -> str:
        self._count_groups()
        depth = 0
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "\\":
                self.out.append(self._escape_outside())
                continue
            self.pos += 1
            if char == "[":
                self.out.append(self._class())
            elif char == "(":
                depth += 1
                self.out.append(self._group_open())
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise self.error("unmatched ')'")
                self.out.append(")")
            elif char == ".":
                self.out.append(_class(_LINE_END, negate=True))
            elif char == "$":
                self.out.append(r"\Z")
            elif char in "]{}" and self.strict and not (char == "{" and self._quantifier_ahead()):
                raise self.error(f"lone {char!r}")
            elif char == "{" and self._quantifier_ahead():
                end = self.src.index("}", self.pos)
                self.out.append("{" + self.src[self.pos:end] + "}")
                self.pos = end + 1
            elif char in "]{}":
                self.out.append(re.escape(char))
            else:
                self.out.append(char if char in "^*+?|" else re.escape(char))
        if depth:
            raise self.error("missing ')'")
        for ref in self.backrefs:
            if isinstance(ref, int) and ref > self.groups or isinstance(ref, str) and ref not in self.names:
                raise EcmaRegexError(f"backreference to a group that does not exist: {ref}")
        return "".join(self.out)

    def _count_groups(self) -> None:
        for match in re.finditer(r"\\.|\[(?:\\.|[^\]\\])*\]|\((?!\?)|\(\?<([A-Za-z_$][\w$]*)>", self.src, re.S):
            text = match.group(0)
            if text.startswith("("):
                self.groups += 1
                if match.group(1):
                    if match.group(1) in self.names:
                        raise EcmaRegexError(f"duplicate group name {match.group(1)!r}")
                    self.names.add(match.group(1))

    def _quantifier_ahead(self) -> bool:
        return re.match(r"\d+(,\d*)?\}", self.src[self.pos:]) is not None

    def _group_open(self) -> str:
        if self.peek() != "?":
            return "("
        for ecma, python in (("?:", "(?:"), ("?=", "(?="), ("?!", "(?!"), ("?<=", "(?<="), ("?<!", "(?<!")):
            if self.src.startswith(ecma, self.pos):
                self.pos += len(ecma)
                return python
        named = re.match(r"\?<([A-Za-z_$][\w$]*)>", self.src[self.pos:])
        if named:
            self.pos += named.end()
            return f"(?P<{named.group(1).replace('$', '_')}>"
        if re.match(r"\?[a-zA-Z]", self.src[self.pos:]):
            raise self.error("invalid group (ECMA-262 has no inline flags such as (?i) or Python's (?P<name>)")
        raise self.error("invalid group")

    def _escape_outside(self) -> str:
        """An escape outside a class: assertions, classes, backreferences or one character."""
        nxt = self.peek(1)
        if nxt == "b":
            self.pos += 2
            return _WORD_BOUNDARY
        if nxt == "B":
            self.pos += 2
            return _NOT_WORD_BOUNDARY
        if nxt.isdigit() and nxt != "0":
            digits = re.match(r"\d+", self.src[self.pos + 1:]).group(0)  # type: ignore[union-attr]
            self.pos += 1 + len(digits)
            self.backrefs.append(int(digits))
            return f"(?:\\{int(digits)})" if int(digits) < 100 else "(?!)"
        if nxt == "k":
            named = re.match(r"k<([A-Za-z_$][\w$]*)>", self.src[self.pos + 1:])
            if not named:
                raise self.error("invalid named backreference")
            self.pos += 1 + named.end()
            self.backrefs.append(named.group(1))
            return f"(?P={named.group(1).replace('$', '_')})"
        ranges, negate, code = self._atom_escape(in_class=False)
        return _class(ranges, negate) if ranges is not None else _char(code)

    def _atom_escape(self, in_class: bool) -> tuple[Ranges | None, bool, int]:
        """(ranges, negated, -1) for a class escape, else (None, False, code point)."""
        self.pos += 1
        char = self.peek()
        if not char:
            raise self.error("pattern ends with '\\'")
        self.pos += 1
        shorthand = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
        if char.lower() in shorthand:
            return shorthand[char.lower()], char.isupper(), -1
        if char in "pP":
            name = re.match(r"\{([A-Za-z0-9_=]+)\}", self.src[self.pos:])
            if not name:
                raise self.error("invalid \\p escape")
            self.pos += name.end()
            return list(property_ranges(name.group(1))), char == "P", -1
        if char in _CONTROL:
            return None, False, _CONTROL[char]
        if char == "c":
            letter = self.peek()
            if not ("a" <= letter.lower() <= "z"):
                raise self.error("\\c must be followed by a letter")
            self.pos += 1
            return None, False, ord(letter) % 32
        if char == "0" and not self.peek().isdigit():
            return None, False, 0
        if char == "x":
            return None, False, self._hex(r"[0-9A-Fa-f]{2}")
        if char == "u":
            return None, False, self._unicode_escape()
        if in_class and char == "b":
            return None, False, 0x08
        if in_class and char == "-" or char in _SYNTAX or not self.strict and not char.isalnum():
            return None, False, ord(char)
        self.pos -= 1
        raise self.error(f"invalid escape \\{char}")

    def _hex(self, shape: str) -> int:
        found = re.match(shape, self.src[self.pos:])
        if not found:
            raise self.error("invalid hexadecimal escape")
        self.pos += found.end()
        return int(found.group(0).strip("{}"), 16)

    def _unicode_escape(self) -> int:
        if self.peek() == "{":
            code = self._hex(r"\{[0-9A-Fa-f]{1,6}\}")
            if code > MAX_CODE_POINT:
                raise self.error("code point out of range")
            return code
        code = self._hex(r"[0-9A-Fa-f]{4}")
        trail = re.match(r"\\u(D[C-F][0-9A-F]{2})", self.src[self.pos:], re.I)
        if 0xD800 <= code <= 0xDBFF and trail:
            self.pos += trail.end()
            return 0x10000 + ((code - 0xD800) << 10) + (int(trail.group(1), 16) - 0xDC00)
        return code

    def _class(self) -> str:
        negate = self.peek() == "^"
        self.pos += negate
        ranges: Ranges = []
        while True:
            if self.pos >= len(self.src):
                raise self.error("missing ']'")
            if self.peek() == "]":
                self.pos += 1
                break
            low = self._class_atom(ranges)
            if low is None or self.peek() != "-" or self.peek(1) in ("]", ""):
                if low is not None:
                    ranges.append((low, low))
                continue
            self.pos += 1
            high = self._class_atom(ranges)
            if high is None:
                if self.strict:
                    raise self.error("a class escape cannot bound a range")
                ranges += [(low, low), (0x2D, 0x2D)]
            elif high < low:
                raise self.error("range out of order in character class")
            else:
                ranges.append((low, high))
        return _class(_merge(ranges), negate)

    def _class_atom(self, ranges: Ranges) -> int | None:
        """One class member: its code point, or None after adding a class escape's ranges."""
        if self.peek() != "\\":
            self.pos += 1
            return ord(self.src[self.pos - 1])
        found, negated, code = self._atom_escape(in_class=True)
        if found is None:
            return code
        ranges += complement(found) if negated else found
        return None


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


@lru_cache(maxsize=1024)
def to_python(pattern: str, strict: bool = False) -> str:
    """The Python `re` pattern that matches what the ECMA-262 `pattern` matches."""
    translated = _Translator(pattern, strict).translate()
    try:
        re.compile(translated)
    except re.error as error:
        raise EcmaRegexError(f"cannot compile: {error.msg}") from None
    return translated
