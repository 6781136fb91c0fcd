"""Agreement of the json_schema metric's validation with the official JSON Schema test suite.

    python benchmarks/bench_json_schema_suite.py [SUITE_DIR] [--draft 7] [--list]

SUITE_DIR is a copy of json-schema-org/JSON-Schema-Test-Suite (the folder holding `tests/` and
`remotes/`); default: $HARNESS_JSON_SCHEMA_SUITE, else benchmarks/data/JSON-Schema-Test-Suite.
The jsonschema source distribution on PyPI ships the suite, so it can be fetched with pip:

    pip download --no-binary :all: --no-deps jsonschema -d /tmp/js
    tar xzf /tmp/js/jsonschema-*.tar.gz -C /tmp/js
    python benchmarks/bench_json_schema_suite.py /tmp/js/jsonschema-*/json

For drafts 4, 6, 7, 2019-09 and 2020-12 it runs every required test (format as an annotation),
the optional `format` tests with `format: assert`, and reports the other optional tests apart
(they cover behaviour the specification leaves open). Remote references are served from the
suite's `remotes/` folder; nothing touches the network. Prints agreement per draft and group and
lists each disagreement; exit code 1 when a required or format test disagrees.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.testing.json_schema_suite import DRAFT_DIRS, run_draft  # noqa: E402

DEFAULT = Path(__file__).resolve().parent / "data" / "JSON-Schema-Test-Suite"


def find_suite(given: str | None) -> Path:
    path = Path(given or os.environ.get("HARNESS_JSON_SCHEMA_SUITE") or DEFAULT)
    for candidate in (path, path / "json"):  # the suite itself, or an unpacked jsonschema sdist
        if (candidate / "tests").is_dir() and (candidate / "remotes").is_dir():
            return candidate
    how = "\n\n".join(__doc__.split("\n\n")[2:4])
    sys.exit(f"no JSON Schema test suite at {path} (it needs tests/ and remotes/).\n{how}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", nargs="?", help="folder holding tests/ and remotes/")
    parser.add_argument("--draft", action="append", choices=list(DRAFT_DIRS), help="only these drafts")
    parser.add_argument("--list", action="store_true", help="list the disagreements of the optional group too")
    args = parser.parse_args()
    root = find_suite(args.suite)
    print(f"suite: {root}")
    print(f"{'draft':<8} {'group':<9} {'agree':>6} {'total':>6} {'%':>7}")
    failed = 0
    for draft in args.draft or list(DRAFT_DIRS):
        started = time.perf_counter()
        groups = run_draft(root, draft)
        for group, tally in groups.items():
            share = 100.0 * tally.agreed / tally.total if tally.total else float("nan")
            print(f"{draft:<8} {group:<9} {tally.agreed:>6} {tally.total:>6} {share:>6.2f}%")
        print(f"{draft:<8} ({time.perf_counter() - started:.1f} s)")
        for group, tally in groups.items():
            if group == "optional" and not args.list:
                continue
            for o in tally.disagreements:
                failed += group != "optional"
                got = "error" if o.got is None else ("valid" if o.got else "invalid")
                print(f"  DISAGREE {draft} {o.file} | {o.case} | {o.test}: expected "
                      f"{'valid' if o.expected else 'invalid'}, got {got}{f' ({o.problem})' if o.problem else ''}")
    print(f"required + format disagreements: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
