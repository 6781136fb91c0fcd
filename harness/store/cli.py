"""`harness runs`: list the runs in the store, add run directories to it, forget runs.

    harness runs [--suite S] [--status S] [--since DATE] [--until DATE] [--json]
    harness runs add DIR... [--force]      # a run directory, or a folder of them (results/runs)
    harness runs forget RUN_ID... | --missing
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "list the runs in the run store; `runs add DIR...` adds run directories, `runs forget ID` removes runs"


def configure(parser: argparse.ArgumentParser) -> None:
    _store_option(parser, argparse.SUPPRESS)
    _list_options(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list runs (the default)", description="list runs, newest first")
    _store_option(listing, argparse.SUPPRESS)
    _list_options(listing)
    add = actions.add_parser("add", help="add run directories (idempotent, keyed by run id)",
                             description="add run directories, or folders of them, to the run store")
    add.add_argument("dirs", nargs="+", metavar="DIR", help="a run directory, or a folder whose sub-folders are runs")
    add.add_argument("--force", action="store_true", help="re-read runs whose files look unchanged")
    _store_option(add, argparse.SUPPRESS)
    forget = actions.add_parser("forget", help="remove runs from the store (their directories are left alone)",
                                description="remove runs from the run store; the run directories are not touched")
    forget.add_argument("run_ids", nargs="*", metavar="RUN_ID", help="run ids or unique prefixes")
    forget.add_argument("--missing", action="store_true", help="every run whose directory is gone")
    _store_option(forget, argparse.SUPPRESS)


def _store_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--db", default=default, metavar="URL",
                        help="store: a SQLite file or a database URL (default $HARNESS_DB, else runs.db in the cache folder)")


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", default=argparse.SUPPRESS, help="only runs of this suite")
    parser.add_argument("--status", default=argparse.SUPPRESS, choices=["complete", "interrupted", "running", "failed"])
    parser.add_argument("--since", default=argparse.SUPPRESS, metavar="DATE", help="started on or after (YYYY-MM-DD or ISO time, UTC)")
    parser.add_argument("--until", default=argparse.SUPPRESS, metavar="DATE", help="started on or before")
    parser.add_argument("--limit", type=int, default=argparse.SUPPRESS, metavar="N", help="at most N runs (default 50)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from harness.store.database import RunStore

    action = getattr(args, "action", None) or "list"
    db = getattr(args, "db", None)
    if action in ("add", "forget"):
        with RunStore.open(db) as store:
            return _add(store, args) if action == "add" else _forget(store, args)
    with RunStore.open(db, readonly=True) as store:
        return _list(store, args)


def _list(store: Any, args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.store.read import list_runs

    limit = getattr(args, "limit", 50)
    if limit is not None and limit <= 0:
        raise HarnessError("--limit must be greater than 0")
    found = list_runs(store, suite=getattr(args, "suite", None), status=getattr(args, "status", None),
                      since=getattr(args, "since", None), until=getattr(args, "until", None), limit=limit)
    if getattr(args, "json", False):
        print(json.dumps([_public(r) for r in found], indent=2))
        return 0
    if not found:
        print(f"no runs in the store {store.location.shown} match" if _filtered(args)
              else f"no runs in the store {store.location.shown} yet: `harness run` adds each run, `harness runs add DIR` adds old ones")
        return 0
    rows = [["RUN", "STARTED (UTC)", "SUITE", "STATUS", "COMMIT", "SYSTEMS", "SAMPLES", "HEADLINE", "PATH"]]
    for r in found:
        headline = f"{r['headline_metric']} {r['headline_best']:.3g}" if r["headline_best"] is not None else "-"
        commit = (r["git_commit"] or "-")[:8] + ("*" if r["git_dirty"] else "")
        status = r["status"] + (" (missing)" if r["missing"] else "")
        rows.append([r["run_id"][:12], r["started_at"][:16].replace("T", " "), r["suite_name"], status, commit,
                     str(r["n_systems"]), f"{r['n_done']}/{r['n_planned']}", headline, r["path"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    missing = sum(r["missing"] for r in found)
    if missing:
        print(f"\n{missing} run(s) marked missing: their directory is gone. `harness runs add NEW_DIR` updates a "
              "moved one; `harness runs forget --missing` removes them.", file=sys.stderr)
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    return any(getattr(args, k, None) for k in ("suite", "status", "since", "until"))


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k not in ("header", "fingerprint")}


def _add(store: Any, args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.store.database import StoreError
    from harness.store.write import add_run, missing_runs, run_dirs

    failed = 0
    found = []
    for given in args.dirs:
        try:
            found += run_dirs([given])
        except HarnessError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
    for path in found:
        try:
            print(add_run(store, path, force=args.force).describe())
        except StoreError:
            raise
        except HarnessError as error:  # this directory is unreadable: say so, add the others
            print(f"error: {error}", file=sys.stderr)
            failed += 1
    gone = missing_runs(store)
    if gone:
        print(f"{len(gone)} run(s) in the store have no directory any more (deleted, or moved elsewhere):", file=sys.stderr)
        for run_id, path in gone:
            print(f"  missing   {run_id[:12]}  {path}", file=sys.stderr)
        print("`harness runs add NEW_DIR` follows a moved run; `harness runs forget --missing` removes them.", file=sys.stderr)
    print(f"store: {store.location.shown}")
    return 2 if failed else 0


def _forget(store: Any, args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.store.write import forget, missing_runs

    ids = list(args.run_ids)
    if args.missing:
        ids += [run_id for run_id, _ in missing_runs(store)]
    if not ids:
        raise HarnessError("name the runs to forget (RUN_ID...) or pass --missing")
    for run_id in forget(store, ids):
        print(f"forgot    {run_id}")
    return 0
