"""`harness decide RUN_DIR [--json] [--suite FILE]`: which approach, why, and what it costs.

Module level stays import-free: `harness --help` imports this to list the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "the decision analysis of a run: roles, effects with CIs, failures, cost, freshness, a recommendation"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `harness run`")
    parser.add_argument("--json", action="store_true", help="print the analysis as JSON instead of Markdown")
    parser.add_argument("--suite", metavar="FILE",
                        help="read `decision:` and `cost:` from this suite file instead of the ones the run recorded "
                             "(tune goals and prices without re-running)")
    parser.add_argument("--out", metavar="FILE", help="also write the output to this file")


def run(args: argparse.Namespace) -> int:
    from harness.decision import analyse, render_markdown
    from harness.run import RunView

    view = RunView.open(args.run_dir)
    decision_config, cost_config = load_sections(args.suite) if args.suite else (None, None)
    if decision_config is not None:
        check_names(decision_config, view, args.suite)
    decision = analyse(view, decision=decision_config, cost=cost_config)
    if message := view.duplicates_message():  # read by the analysis's pass over the samples
        print(f"warning: {args.run_dir}: {message}", file=sys.stderr)
    text = decision.model_dump_json(indent=2) + "\n" if args.json else render_markdown(decision)
    sys.stdout.write(text)
    if args.out:
        target = Path(args.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


def check_names(config: Any, view: Any, where: str) -> None:
    """Roles and candidates the file names must be systems of this run: a goal weighed against a
    system that is not there would silently change what the recommendation compares."""
    from harness.errors import HarnessError

    known = set(view.header.systems)
    problems = [f"{at}: no system named {name!r} in this run (it has {', '.join(sorted(known))})"
                for at, name in config.named_systems().items() if name not in known]
    if problems:
        raise HarnessError(f"{len(problems)} problem(s) in the decision section", where=where, problems=problems)


def load_sections(suite_path: str) -> tuple[Any, Any]:
    """The `decision:` and `cost:` sections of a suite file, validated on their own; None for a
    section the file does not have (the run's recorded one is used)."""
    from pydantic import ValidationError

    from harness.errors import HarnessError
    from harness.suite.decision import CostConfig, DecisionConfig
    from harness.suite.yaml_file import read_suite_file

    path = Path(suite_path)
    raw, _ = read_suite_file(path)
    if raw.get("decision") is None and raw.get("cost") is None:
        raise HarnessError("the file has neither a `decision:` nor a `cost:` section", where=str(path))
    found = []
    for key, model in (("decision", DecisionConfig), ("cost", CostConfig)):
        try:
            found.append(model.model_validate(raw[key]) if raw.get(key) is not None else None)
        except ValidationError as error:
            problems = [f"{key}.{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}".replace(".: ", ": ")
                        for e in error.errors()]
            raise HarnessError(f"{len(problems)} problem(s) in the {key} section", where=str(path), problems=problems) from None
    return found[0], found[1]
