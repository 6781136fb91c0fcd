"""`harness` command line. Imports stay inside the commands so `harness --help` is instant."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable

# 0 ok; 1 a regression (gate); 2 bad input or usage; 3 the run finished but is unusable (too
# many errors, a judge that broke: see RunHeader.unusable); 130 interrupted.
EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    from harness.errors import HarnessError

    try:
        return int(args.handler(args) or 0)
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader left (`harness ... | head`): what it read was all it wanted. Later writes to
        # stdout go nowhere, so the interpreter's final flush cannot raise again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no file (a caller's capture): nothing to redirect
            pass
        return EXIT_BROKEN_PIPE


def entry() -> None:
    """The `harness` command: `main`, then a quick exit (see harness.engine.cli_process) with its code."""
    from harness.engine import cli_process

    cli_process.enable()
    code = main()
    cli_process.exit_now(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Compare LLM approaches (prompt, few-shot, RAG, fine-tuned, hybrid) on your own data.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the harness version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = _command(sub, "run", "run a suite and write a run directory (its path is the last line printed)", _run)
    run.add_argument("suite", nargs="?", help="suite YAML file (not needed with --resume)")
    run.add_argument("--resume", metavar="RUN_DIR", help="finish only the missing (system, example) pairs")
    run.add_argument("--out", metavar="DIR", help="run directory to create (default results/runs/<time>-<suite>)")
    run.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N test examples")
    run.add_argument("--systems", metavar="A,B", help="run only these systems")
    run.add_argument("--model", help="run every system on this litellm model instead of the file's")
    run.add_argument("--judge-model", help="judge model for judge metrics instead of the file's")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not fill the response cache")
    run.add_argument("--cache-dir", metavar="DIR", help="response cache folder (default $HARNESS_CACHE_DIR or ~/.cache/harness)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--no-report", action="store_true", help="skip report.md/html and charts (harness report RUN_DIR writes them later)")
    run.add_argument("--exclude-leaked", action="store_true", help="drop test examples whose input is also in the train split")

    validate = _command(sub, "validate", "check a suite file and its dataset; exit 0 valid, 2 invalid", _validate)
    validate.add_argument("suite")

    _command(sub, "schema", "print the JSON Schema of suite files (for editors)", _schema)
    for name, module in PLUGGED_COMMANDS:
        _plugged(sub, name, module)
    return parser


# Commands that live with their feature. Each module has HELP, configure(parser) and
# run(args) -> exit code, and imports nothing heavy at module level (this runs for --help).
PLUGGED_COMMANDS = [
    ("report", "harness.report.cli"),
    ("compare", "harness.compare.cli"),
    ("baseline", "harness.compare.baseline_cli"),
    ("gate", "harness.compare.gate_cli"),
    ("finetune", "harness.finetune.cli"),
    ("decide", "harness.decision.cli"),
    ("cache", "harness.gateway.cache_cli"),
    ("runs", "harness.store.cli"),
    ("view", "harness.view.cli"),
]


class _VersionAction(argparse.Action):
    """`--version`, reading the package metadata only when asked (every command builds the parser)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    """The installed distribution's version (read from its metadata, no import of the harness)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("harness-eval")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _plugged(sub: Any, name: str, module_name: str) -> None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            return  # feature not installed in this tree
        raise
    parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
    module.configure(parser)
    parser.set_defaults(handler=module.run)


def _command(sub: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def _run(args: argparse.Namespace) -> int:
    from harness.engine import cli_process
    from harness.errors import HarnessError

    if args.limit is not None and args.limit <= 0:
        raise HarnessError("--limit must be greater than 0")
    if cli_process.enabled():
        import harness.run  # noqa: F401 - the followers need it too: forked after it, they have it
        from harness.report.follower_handle import start_early

        # the followers import the rest while this process imports and plans the run (in a run
        # that makes no call, they have no time to lose)
        start_early(reports=not args.no_report)
    from harness.engine.launch import resume_run, start_run
    from harness.engine.plan import RunOptions
    if args.resume:
        if args.suite:
            raise HarnessError("give either a suite or --resume RUN_DIR, not both")
        outcome = resume_run(Path(args.resume), use_cache=not args.no_cache, cache_dir=args.cache_dir, progress=not args.no_progress)
    else:
        if not args.suite:
            raise HarnessError("give a suite file (or --resume RUN_DIR)")
        if args.out:
            from harness.engine.preflight_checks import new_run_dir_problems

            if problems := new_run_dir_problems(Path(args.out)):
                raise HarnessError(problems[0])
        options = RunOptions(
            out=Path(args.out) if args.out else None,
            limit=args.limit,
            systems=[s.strip() for s in args.systems.split(",") if s.strip()] if args.systems else None,
            use_cache=not args.no_cache,
            model=args.model,
            judge_model=args.judge_model,
            cache_dir=Path(args.cache_dir) if args.cache_dir else None,
            progress=not args.no_progress,
            exclude_leaked=args.exclude_leaked,
            reports=not args.no_report,
        )
        outcome = start_run(args.suite, options)
    from harness.run import RunView
    from harness.run.console import print_outcome

    header = outcome.header
    print_outcome(header, RunView.open(outcome.path).summary())
    unusable = header.unusable() if header.status == "complete" else []
    for reason in unusable:
        print(f"error: unusable run: {reason}", file=sys.stderr)
    print(outcome.path)
    if header.status == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_UNUSABLE if unusable else EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    """`harness run`'s pre-flight without the run: same checks, same errors, nothing written."""
    from harness.engine.preflight import RunOptions, preflight

    plan = preflight(args.suite, RunOptions(progress=False))
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    noted = f" ({len(plan.warnings)} warning(s))" if plan.warnings else ""
    print(
        f"ok: suite {plan.suite.name!r}: {len(plan.systems)} systems, {len(plan.metrics)} metrics, "
        f"{len(plan.dataset.test)} test and {len(plan.dataset.train)} train examples{noted}"
    )
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    import json

    from harness.suite.loader import suite_json_schema

    print(json.dumps(suite_json_schema(), indent=2))
    return EXIT_OK


if __name__ == "__main__":
    entry()
