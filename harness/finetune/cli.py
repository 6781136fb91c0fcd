"""`harness finetune SUITE --system NAME`: train (or find) a system's LoRA now, or export hosted JSONL.

`harness run` trains on demand too; this command does it ahead of time, with a progress bar,
and prints the LoRA path as the last line. Imports stay inside `run` (this module is
imported for `harness --help`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "train a finetuned/hybrid system's LoRA now (or write hosted fine-tuning JSONL)"
FINETUNABLE = ("finetuned", "hybrid")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="suite YAML file")
    parser.add_argument("--system", metavar="NAME", help="the finetuned or hybrid system (default: the only one)")
    parser.add_argument("--force", action="store_true", help="train again even when a cached LoRA matches")
    parser.add_argument("--hosted", action="store_true", help="write OpenAI chat fine-tuning JSONL instead of training locally")
    parser.add_argument("--out", metavar="FILE", help="JSONL path for --hosted (default: finetune-<suite>-<system>.jsonl)")
    parser.add_argument("--submit", action="store_true", help="with --hosted: upload it and start the job through litellm (needs OPENAI_API_KEY), then poll it")
    parser.add_argument("--base-model", metavar="MODEL", help="with --submit: the provider model to fine-tune (default: the system's model, else gpt-4o-mini-2024-07-18)")
    parser.add_argument("--poll-interval", type=float, default=30.0, metavar="S", help="seconds between job status checks (default 30)")
    parser.add_argument("--no-wait", action="store_true", help="with --submit: print the job id and return without polling")
    parser.add_argument("--cache-dir", metavar="DIR", help="cache folder (default $HARNESS_CACHE_DIR or ~/.cache/harness)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from harness.errors import ConfigError, HarnessError

    if args.submit and not args.hosted:
        raise HarnessError("--submit needs --hosted (local training needs no submission)")
    system = build_system(args)
    if args.hosted:
        return asyncio.run(_hosted(system, args))
    if system.config.train is None:
        raise ConfigError(
            f"system {args.system!r} has no train: block (it calls the existing model {system.config.model}); "
            "add train: {...} to train a LoRA here, or use --hosted to export its training data"
        )
    asyncio.run(system.setup(force=args.force))
    lora = system.lora
    lineage = lora.lineage()
    seconds = lineage.get("wall_time_s", {})
    if lora.trained:
        losses = lineage.get("loss_per_step") or [None]
        print(
            f"trained {len(lineage.get('loss_per_step', []))} steps on {lineage['training_data']['n_examples']} examples "
            f"in {seconds.get('total', 0):.0f} s (final loss {losses[-1]}); lineage: {lora.lineage_path}",
            file=sys.stderr,
        )
    else:
        print(f"cached LoRA {lora.key} (no training; --force to retrain); lineage: {lora.lineage_path}", file=sys.stderr)
    print(lora.path)
    return 0


def build_system(args: argparse.Namespace) -> Any:
    """Load the suite and build the chosen system exactly as `harness run` would."""
    from harness.data.datasets import load_dataset
    from harness.errors import ConfigError
    from harness.gateway import Gateway
    from harness.gateway.cache import default_cache_dir
    from harness.gateway.scripted import register_script
    from harness.data.leakage import check_leakage
    from harness.suite.loader import load_suite
    from harness.systems import SystemContext, load_system_kinds

    suite = load_suite(args.suite)
    for name, spec in suite.scripted_models.items():
        register_script(name, spec)
    candidates = [n for n, c in suite.systems.items() if c.kind in FINETUNABLE]
    if args.system is None:
        if len(candidates) != 1:
            listed = ", ".join(candidates) or "none in this suite"
            raise ConfigError(f"name the system to train with --system (finetuned/hybrid systems: {listed})")
        args.system = candidates[0]
    config = suite.systems.get(args.system)
    if config is None or config.kind not in FINETUNABLE:
        what = f"is a {config.kind} system" if config is not None else "is not in the suite"
        raise ConfigError(
            f"--system {args.system!r} {what}; harness finetune trains finetuned and hybrid systems "
            f"({', '.join(candidates) or 'none in this suite'})"
        )
    dataset = load_dataset(suite)
    if warning := check_leakage(dataset.test, dataset.train).message():
        print(f"warning: {warning}", file=sys.stderr)
    settings = suite.settings
    gateway = Gateway(cache=None, concurrency=settings.concurrency, timeout_s=settings.timeout_s, retry=settings.retry)
    context = SystemContext(
        name=args.system,
        suite=suite,
        gateway=gateway,
        train=dataset.train,
        test=dataset.test,
        cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        extras={"progress": not args.no_progress},
    )
    return load_system_kinds().get(config.kind).factory(config, context)


async def _hosted(system: Any, args: argparse.Namespace) -> int:
    import os

    from harness.errors import ConfigError
    from harness.finetune.config import check_train_size
    from harness.finetune.hosted import hosted_base, manual_instructions, poll_job, submit_job, write_chat_jsonl

    check_train_size(len(system.examples), len(system.context.train), where=system.context.where())
    records = await system.training_records()
    path = Path(args.out or f"finetune-{system.context.suite.name}-{args.system}.jsonl")
    write_chat_jsonl(records, path)
    print(f"wrote {len(records)} chat fine-tuning examples to {path}", file=sys.stderr)
    if args.submit:
        base = args.base_model or hosted_base(system.config.model)
        if not os.environ.get("OPENAI_API_KEY"):
            raise ConfigError(manual_instructions(path, base))
        job = submit_job(path, base, suffix=args.system[:18])
        print(f"submitted fine-tuning job {job.id} on {base}", file=sys.stderr)
        if not args.no_wait:
            job = poll_job(job.id, interval_s=args.poll_interval)
            if getattr(job, "status", None) != "succeeded":
                raise ConfigError(f"fine-tuning job {job.id} ended {job.status}: {getattr(job, 'error', None)}")
            print(f"done: set `model: openai/{job.fine_tuned_model}` on system {args.system} (no train: block)", file=sys.stderr)
        print(job.id)
        return 0
    print(path)
    return 0
