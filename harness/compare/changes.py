"""What differs between the set-up of two score sets, named, so nothing is compared blindly.

A change is anything that makes "new minus base" measure more than the code under test: the
suite file, a system's resolved config, the metric or judge configs, or an example's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.run.scores import ScoreSet

MAX_LISTED = 8


@dataclass(frozen=True)
class Change:
    what: str  # "suite", "system", "metrics", "judge", "examples"
    name: str | None  # the system, when what == "system"
    detail: str

    def __str__(self) -> str:
        return self.detail


def detect(base: ScoreSet, new: ScoreSet) -> list[Change]:
    found: list[Change] = []
    suite_b, suite_n = base.suite, new.suite
    if suite_b.get("name") != suite_n.get("name"):
        found.append(Change("suite", None, f"suite name differs: {suite_b.get('name')!r} vs {suite_n.get('name')!r}"))
    elif suite_b.get("content_hash") != suite_n.get("content_hash"):
        same_meaning = suite_b.get("semantic_hash") and suite_b.get("semantic_hash") == suite_n.get("semantic_hash")
        if not same_meaning:
            found.append(
                Change(
                    "suite",
                    None,
                    f"suite file changed ({_short(suite_b.get('content_hash'))} -> {_short(suite_n.get('content_hash'))})",
                )
            )
    for system in base.systems:
        if system in new.systems and base.systems[system] != new.systems[system]:
            keys = diff_keys(base.systems[system], new.systems[system])
            found.append(Change("system", system, f"system {system!r}: config changed ({_listed(keys)})"))
    if base.metric_configs != new.metric_configs:
        keys = diff_keys(_by_type(base.metric_configs), _by_type(new.metric_configs))
        found.append(Change("metrics", None, f"metric configs changed ({_listed(keys)})"))
    if base.judge and new.judge and base.judge != new.judge:
        found.append(Change("judge", None, f"judge config changed ({_listed(diff_keys(base.judge, new.judge))})"))
    edited = [i for i, digest in base.examples.items() if i in new.examples and new.examples[i] != digest]
    if edited:
        found.append(Change("examples", None, f"{len(edited)} example(s) changed content: {_listed(edited)}"))
    return found


def edited_examples(base: ScoreSet, new: ScoreSet) -> set[str]:
    """Ids whose content differs: never paired, since they are not the same question any more."""
    return {i for i, digest in base.examples.items() if i in new.examples and new.examples[i] != digest}


def diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two JSON-like values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in list(a) + [k for k in b if k not in a]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in a or key not in b:
                out.append(path)
            elif a[key] != b[key]:
                out.extend(diff_keys(a[key], b[key], path))
        return out
    return [prefix or "(value)"] if a != b else []


def _by_type(configs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for config in configs:
        name = str(config.get("type", "?"))
        key, n = name, 2
        while key in out:
            key, n = f"{name}#{n}", n + 1
        out[key] = config
    return out


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f", ... {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _short(digest: Any) -> str:
    return str(digest)[:8] if digest else "?"
