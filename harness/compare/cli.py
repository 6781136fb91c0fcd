"""`harness compare BASE NEW`: paired comparison of two runs (run directories or baseline files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "compare two runs (run directories or baseline files): paired deltas, CIs, Holm-adjusted p-values"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", help="the reference: a run directory or a baseline file")
    parser.add_argument("new", help="the run to judge: a run directory or a baseline file")
    parser.add_argument("--format", choices=["md", "json"], default="md", help="output format (default md)")
    parser.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level for the Change column")
    parser.add_argument("--permutations", type=int, default=10_000, help="sign-flip permutations per comparison")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from harness.compare.baseline import load
    from harness.compare.compare import CompareSettings, compare
    from harness.compare.render import comparison_markdown, to_json
    from harness.errors import HarnessError
    from harness.run.view import duplicates_message

    if not 0 < args.alpha < 1:
        raise HarnessError("--alpha must be between 0 and 1")
    if args.permutations < 100:
        raise HarnessError("--permutations must be at least 100")
    base, new = load(args.base), load(args.new)
    for side in (base, new):
        if side.kind == "run" and side.status != "complete":
            print(f"warning: {side.source} is {side.status}, not complete", file=sys.stderr)
        if side.duplicates:
            print(f"warning: {side.source}: {duplicates_message(side.duplicates)}", file=sys.stderr)
    comparison = compare(base, new, CompareSettings(permutations=args.permutations, alpha=args.alpha, seed=args.seed))
    text = to_json(comparison.to_dict()) if args.format == "json" else comparison_markdown(comparison)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0
