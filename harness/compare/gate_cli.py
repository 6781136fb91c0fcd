"""`harness gate RUN --baseline FILE`: exit 0 pass, 1 regression, 2 unusable (bad input, set-up changed).

The markdown goes to stdout, `--markdown FILE` and `$GITHUB_STEP_SUMMARY` (appended) so one
command serves a terminal, a pull-request comment and the Actions job summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "gate a run against a baseline with the suite's gate rules (exit 0 pass, 1 regression, 2 usage)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="the run directory to judge (must be complete)")
    parser.add_argument("--baseline", required=True, metavar="FILE", help="baseline file (or a reference run directory)")
    parser.add_argument("--suite", metavar="FILE", help="read the gate section from here (default: the run's suite file)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the markdown report here (for a PR comment)")
    parser.add_argument("--json", metavar="FILE", help="also write the full result as JSON here")
    parser.add_argument(
        "--allow-changed",
        action="store_true",
        help="compare even when the suite, a system's config, metric/judge configs or examples changed "
        "since the baseline (default: exit 2 naming what changed)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the permutation test and bootstrap")


def run(args: argparse.Namespace) -> int:
    import hashlib

    from harness.compare.baseline import load, require_complete
    from harness.compare.gate import evaluate, load_gate_config
    from harness.compare.render import gate_markdown, to_json
    from harness.errors import HarnessError

    run_scores = load(args.run)
    if run_scores.kind != "run":
        raise HarnessError("RUN must be a run directory", where=args.run)
    require_complete(run_scores)
    baseline = load(args.baseline)
    suite_path = args.suite or run_scores.suite.get("path")
    if not suite_path:
        raise HarnessError("run.json does not record its suite file; pass --suite FILE", where=args.run)
    config = load_gate_config(suite_path)
    result = evaluate(config, baseline, run_scores, allow_changed=args.allow_changed, seed=args.seed)
    recorded = run_scores.suite.get("content_hash")
    current = hashlib.sha256(Path(suite_path).read_text(encoding="utf-8").encode()).hexdigest()
    if not args.suite and recorded and current != recorded:
        result.notes.append(f"the suite file {suite_path} changed since the run; its current gate section was used")
    text = gate_markdown(result)
    sys.stdout.write(text)
    if args.markdown:
        _write(args.markdown, text)
    if args.json:
        _write(args.json, to_json(result.to_dict()))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    for check in result.failures:
        print(f"regression: {check.system} {check.metric}: {check.message}", file=sys.stderr)
    for change in result.blocked:
        print(f"error: changed since the baseline: {change}", file=sys.stderr)
    return result.exit_code


def _write(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
