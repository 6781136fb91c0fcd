"""`harness baseline save RUN`: record a complete run as the committed reference for the gate."""

from __future__ import annotations

import argparse

HELP = "manage baseline files (the committed reference runs `harness gate` compares against)"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    save = actions.add_parser(
        "save",
        help="write a baseline file from a complete run directory",
        description="Write a compact baseline (per-example ok scores, resolved system configs, suite hash) "
        "from a complete run directory. Default path: results/baselines/<suite>.json.",
    )
    save.add_argument("run", metavar="RUN", help="a complete run directory")
    save.add_argument("--out", metavar="FILE", help="baseline file to write (default results/baselines/<suite>.json)")


def run(args: argparse.Namespace) -> int:
    from harness.compare.baseline import save

    path = save(args.run, args.out)
    print(path)
    return 0
