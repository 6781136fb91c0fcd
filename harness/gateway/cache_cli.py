"""`harness cache info|clear`: what the cache folder holds, and emptying it.

The folder (`--cache-dir`, else $HARNESS_CACHE_DIR, else ~/.cache/harness) holds model replies
and embeddings (responses.sqlite), the judge's replies (judge/), retrieval indexes (indexes/),
trained LoRAs (loras/) and the local model file (models/, or $HARNESS_MODELS_DIR).
`clear` empties the replies, embeddings and judge replies unless told which parts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

HELP = "show or empty the response cache (replies, embeddings, judge replies, indexes, LoRAs)"
ANSWER_PARTS = ("responses", "embeddings", "judge")
FOLDER_PARTS = ("indexes", "loras", "models")
PARTS = ANSWER_PARTS + FOLDER_PARTS


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = sub.add_parser("info", help="what the cache folder holds", description="What the cache folder holds.")
    info.add_argument("--json", action="store_true", help="print JSON")
    clear = sub.add_parser(
        "clear",
        help="empty parts of the cache (default: responses, embeddings, judge)",
        description="Empty parts of the cache. Without PART: model replies, embeddings and judge replies.",
    )
    clear.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)}, or all")
    clear.add_argument("--stale", action="store_true", help="only replies and embeddings stored under older cache-key versions")
    for command in (info, clear):
        command.add_argument("--cache-dir", metavar="DIR", help="cache folder (default $HARNESS_CACHE_DIR or ~/.cache/harness)")


def run(args: argparse.Namespace) -> int:
    folder = _folder(args.cache_dir)
    if args.cache_command == "info":
        summary = describe_cache(folder)
        print(json.dumps(summary, indent=2) if args.json else _info_text(summary))
        return 0
    for line in clear_cache(folder, _parts(args.parts), stale_only=args.stale):
        print(line)
    return 0


def _folder(given: str | None) -> Path:
    from harness.gateway.cache import default_cache_dir

    return Path(given) if given else default_cache_dir()


def _models_dir(folder: Path) -> Path:
    return Path(env) if (env := os.environ.get("HARNESS_MODELS_DIR")) else folder / "models"


def _parts(named: list[str]) -> list[str]:
    from harness.errors import HarnessError

    if not named:
        return list(ANSWER_PARTS)
    if "all" in named:
        return list(PARTS)
    unknown = [p for p in named if p not in PARTS]
    if unknown:
        raise HarnessError(f"unknown cache part {', '.join(map(repr, unknown))} (known: {', '.join(PARTS)}, all)")
    return list(dict.fromkeys(named))


def describe_cache(folder: Path) -> dict[str, Any]:
    """Sizes and counts per part; reads only, creates nothing."""
    summary: dict[str, Any] = {"folder": str(folder), "exists": folder.is_dir()}
    responses = folder / "responses.sqlite"
    summary["responses"] = _sqlite_stats(responses)
    summary["judge"] = _sqlite_stats(folder / "judge" / "judge_cache.sqlite")
    for part in FOLDER_PARTS:
        where = _models_dir(folder) if part == "models" else folder / part
        entries = sorted(p.name for p in where.iterdir() if not p.name.startswith(".")) if where.is_dir() else []
        summary[part] = {"path": str(where), "entries": len(entries), "bytes": _size(where)}
    return summary


def _sqlite_stats(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"path": str(path), "bytes": 0}
    from harness.gateway.cache import ResponseCache

    cache = ResponseCache(path)
    try:
        stats = cache.stats()
    finally:
        cache.close()
    return {"path": str(path), "bytes": _size(path.parent, prefix=path.name), **stats}


def _size(path: Path, prefix: str | None = None) -> int:
    """Bytes under `path` (only files whose name starts with `prefix`, e.g. an SQLite file and its WAL)."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    files = path.iterdir() if prefix else path.rglob("*")
    return sum(f.stat().st_size for f in files if f.is_file() and (prefix is None or f.name.startswith(prefix)))


def clear_cache(folder: Path, parts: list[str], *, stale_only: bool = False) -> list[str]:
    """Empty `parts` of the cache; returns one line per part saying what went."""
    from harness.gateway.cache import ResponseCache

    lines = []
    responses = folder / "responses.sqlite"
    wanted = {"replies": "responses" in parts, "embeddings": "embeddings" in parts}
    if any(wanted.values()):
        if responses.is_file():
            cache = ResponseCache(responses)
            try:
                removed = cache.clear(**wanted, stale_only=stale_only)
            finally:
                cache.close()
            lines += [f"{name}: removed {n} {'stale ' if stale_only else ''}entries" for name, n in removed.items()]
        else:
            lines.append(f"responses: nothing cached at {responses}")
    if "judge" in parts:
        judge = folder / "judge" / "judge_cache.sqlite"
        if judge.is_file():
            cache = ResponseCache(judge)
            try:
                removed = cache.clear(replies=True, embeddings=False, stale_only=stale_only)
            finally:
                cache.close()
            lines.append(f"judge: removed {removed['replies']} {'stale ' if stale_only else ''}replies")
        else:
            lines.append("judge: nothing cached")
    for part in FOLDER_PARTS:
        if part not in parts:
            continue
        if stale_only:
            lines.append(f"{part}: kept (--stale applies to replies and embeddings only)")
            continue
        where = _models_dir(folder) if part == "models" else folder / part
        size = _size(where)
        if where.is_dir():
            shutil.rmtree(where)
        lines.append(f"{part}: removed {where} ({_human(size)})" if size else f"{part}: nothing at {where}")
    return lines


def _info_text(summary: dict[str, Any]) -> str:
    lines = [f"cache folder: {summary['folder']}" + ("" if summary["exists"] else " (does not exist yet)")]
    responses = summary["responses"]
    if "replies" in responses:
        stale = f", {responses['replies_stale']} under older key versions (never served)" if responses["replies_stale"] else ""
        span = f", {_day(responses['oldest'])} to {_day(responses['newest'])}" if responses["oldest"] else ""
        lines.append(f"  responses   {responses['replies']} replies{stale}{span}  {_human(responses['bytes'])}")
        for model, n in list(responses["by_model"].items())[:10]:
            lines.append(f"              {n:>7}  {model}")
        stale_vectors = f", {responses['embeddings_stale']} under older key versions" if responses["embeddings_stale"] else ""
        lines.append(f"  embeddings  {responses['embeddings']} vectors{stale_vectors}")
    else:
        lines.append("  responses   none")
    judge = summary["judge"]
    lines.append(f"  judge       {judge['replies']} replies  {_human(judge['bytes'])}" if "replies" in judge else "  judge       none")
    for part in FOLDER_PARTS:
        item = summary[part]
        lines.append(f"  {part:<11} {item['entries']} entries  {_human(item['bytes'])}  ({item['path']})")
    return "\n".join(lines)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _day(stamp: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(stamp))
