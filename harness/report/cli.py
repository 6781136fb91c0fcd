"""`harness report RUN_DIR`: rebuild report.md, charts and report.html from the run's files.

Module level stays import-free: `harness --help` imports this to list the command.
"""

from __future__ import annotations

import argparse
import sys

HELP = "regenerate report.md, charts/ and report.html from a run directory (re-runs nothing)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `harness run`")
    parser.add_argument("--no-charts", action="store_true", help="tables and HTML only, no charts/")


def run(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.report import write_reports

    from harness.run.writer import hold_run_dir

    def warn(message: str) -> None:
        print(f"warning: {args.run_dir}: {message}", file=sys.stderr)

    try:
        with hold_run_dir(args.run_dir):  # never beside a run (or another report) still writing there
            paths = write_reports(args.run_dir, charts=not args.no_charts, warn=warn)
    except HarnessError as error:
        print(f"error: cannot write reports: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
