"""Bounds on what a suite may expand to, checked before anything walks or copies it.

A few YAML lines can stand for billions of values: an alias used nine times, nine levels deep
(`b: [*a, *a, ...]`), is one small object to the YAML reader but 9^9 values to whatever copies
it (`${VAR}` expansion, sweeps). So the suite is measured first, each alias counted once per use,
without copying anything, and refused above these limits (README "Limits"):

- MAX_DEPTH: mappings and lists nested at most 64 deep (a deeper file is malformed, and Python
  would run out of stack reading it); an alias that contains itself is infinitely deep;
- MAX_VALUES: at most 1,000,000 values (keys, scalars, mappings, lists) once aliases are expanded;
- MAX_SWEEP_VARIANTS: at most 1,000 systems from one system's `sweep:`.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64
MAX_VALUES = 1_000_000
MAX_SWEEP_VARIANTS = 1_000


class _TooDeep(Exception):
    def __init__(self) -> None:
        self.path: list[Any] = []


def measure(value: Any, memo: dict[int, tuple[int, int]] | None = None, depth: int = 0) -> tuple[int, int]:
    """(values, nesting depth) of `value` with every shared object counted once per use. Linear
    in the distinct objects: a shared one is measured once (`memo`, by identity). Raises
    _TooDeep, holding the path to the place, past MAX_DEPTH (so an object inside itself too)."""
    if not isinstance(value, (dict, list)):
        return 1, 0
    memo = {} if memo is None else memo
    known = memo.get(id(value))
    if known is not None:
        if depth + known[1] > MAX_DEPTH:
            raise _TooDeep()
        return known
    if depth >= MAX_DEPTH:
        raise _TooDeep()
    items = value.items() if isinstance(value, dict) else enumerate(value)
    count, height = 1, 0
    for key, child in items:
        try:
            child_count, child_height = measure(child, memo, depth + 1)
        except _TooDeep as error:
            error.path.insert(0, key)
            raise
        count += child_count + (1 if isinstance(value, dict) else 0)
        height = max(height, child_height + 1)
    memo[id(value)] = (count, height)
    return count, height


def size_problems(raw: dict[str, Any]) -> list[str]:
    """Why the suite mapping `raw` is too deep or too large to expand, each with its location
    (empty when it is not)."""
    memo: dict[int, tuple[int, int]] = {}
    sizes: dict[str, int] = {}
    for key, value in raw.items():
        try:
            sizes[str(key)] = measure(value, memo, 1)[0]
        except _TooDeep as error:
            where = location([key, *error.path[:12]]) + ("..." if len(error.path) > 12 else "")
            return [f"{where}: nested more than {MAX_DEPTH} levels deep (the limit for a suite; "
                    "an alias inside itself never ends)"]
    total = sum(sizes.values()) + len(sizes)
    if total <= MAX_VALUES:
        return []
    largest = max(sizes, key=sizes.__getitem__)
    return [f"{largest}: holds {sizes[largest]:,} values once YAML aliases are expanded; a suite may hold at most "
            f"{MAX_VALUES:,} (keep large data in files)"]


def location(parts: list[Any]) -> str:
    """`systems.a.params[2]`: a path into the suite as its error messages write it."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text
