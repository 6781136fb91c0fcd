"""Fine-tuning benchmark on the demo suite: cold LoRA training of the fine-tuned system on CPU,
then held-out JSON validity of the base model vs base + adapter with the same prompt.

    .venv/bin/python benchmarks/bench_finetune.py [--limit 20] [--json out.json] [--cache-dir DIR]

Targets: the whole cold run under 15 min and 6 GB peak RSS; fine-tuned JSON validity >= 0.9,
base <= 0.3. Uses suites/demo/suite.yaml's finetuned system when the file has one, else the
config below. A fresh cache folder is used unless --cache-dir is given, so training is cold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "suites" / "demo"

PROMPT = {
    "template": "{{format_instructions}}\n\nQuestion: {{input}}\nAnswer:",
}
INSTRUCTIONS = (
    "Answer the question about Thistlecombe with a JSON object with the keys \"answer\" (a short answer) "
    "and \"sources\" (the corpus file names it comes from)."
)
TRAIN = {"base_model": "local/gemma-3-270m", "lora_r": 8, "lora_alpha": 16, "learning_rate": 1e-3,
         "steps": 24, "batch_size": 8, "max_length": 256, "seed": 0}


def builtin_suite() -> dict[str, Any]:
    return {
        "name": "demo-finetune-bench",
        "dataset": {
            "path": str(DEMO / "questions.jsonl"),
            "fields": {"input": "question", "reference": "answer", "reference_json": "answer_json",
                       "reference_doc_ids": "doc_ids"},
        },
        "answer_format": {"schema": str(DEMO / "answer_schema.json"), "instructions": INSTRUCTIONS},
        "systems": {"finetuned": {"kind": "finetuned", "model": "local/gemma-3-270m", "prompt": PROMPT,
                                  "params": {"max_tokens": 96}, "train": TRAIN}},
    }


def load(limit: int) -> tuple[Any, Any, str, str]:
    from harness.data.datasets import load_dataset
    from harness.suite.loader import load_suite, parse_suite

    path = DEMO / "suite.yaml"
    suite, name, source = parse_suite(builtin_suite(), base_dir=DEMO), "finetuned", "built-in config"
    if path.exists():
        demo = load_suite(path)
        names = [n for n, c in demo.systems.items() if c.kind == "finetuned" and c.train is not None]
        if names:
            suite, name, source = demo, names[0], str(path)
    data = load_dataset(suite)
    data.test = data.test[:limit]
    return suite, data, name, source


def build(suite: Any, data: Any, name: str, cache_dir: Path) -> tuple[Any, Any]:
    """The fine-tuned system and a `kind: prompt` twin: same model, prompt and params, no adapter."""
    from harness.gateway import Gateway
    from harness.systems import SystemContext, load_system_kinds

    kinds = load_system_kinds()
    tuned_config = suite.systems[name]
    base_config = kinds.get("prompt").config.model_validate(
        {"kind": "prompt", "model": tuned_config.model, "prompt": tuned_config.prompt.model_dump(),
         "params": tuned_config.params.model_dump(), "structured_output": tuned_config.structured_output}
    )
    gateway = Gateway(cache=None)

    def context(system_name: str) -> Any:
        return SystemContext(name=system_name, suite=suite, gateway=gateway, train=data.train, test=data.test,
                             cache_dir=cache_dir, extras={"progress": True})

    tuned = kinds.get("finetuned").factory(tuned_config, context(name))
    base = kinds.get("prompt").factory(base_config, context("base"))
    return tuned, base


async def validity(system: Any, examples: list, schema: dict) -> dict[str, Any]:
    import jsonschema

    parsed = valid = correct = 0
    started = time.perf_counter()
    outputs = []
    for example in examples:
        response = await system.respond(example)
        text = response.text.strip()
        try:
            value = json.loads(text)
            parsed += 1
        except json.JSONDecodeError:
            value = None
        if value is not None and not list(jsonschema.Draft202012Validator(schema).iter_errors(value)):
            valid += 1
            want = (example.reference or "").strip().lower()
            correct += int(str(value.get("answer", "")).strip().lower() == want)
        outputs.append({"id": example.id, "text": text[:200], "error": response.error})
    n = len(examples)
    return {"n": n, "json_parse": parsed / n, "json_schema_valid": valid / n, "answer_exact": correct / n,
            "seconds": round(time.perf_counter() - started, 1), "outputs": outputs}


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): less sensitive to a busy machine than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


async def main(args: argparse.Namespace) -> dict[str, Any]:
    cold_started = time.perf_counter()
    suite, data, name, source = load(args.limit)
    tuned, base = build(suite, data, name, Path(os.environ["HARNESS_CACHE_DIR"]))
    print(f"suite: {source}; system {name}; {len(tuned.examples)} train examples, {len(data.test)} test", file=sys.stderr)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    await tuned.setup()
    setup_s, setup_cpu_s = time.perf_counter() - started, cpu_seconds() - cpu_started
    train_rss = peak_rss_gb()
    lineage = tuned.adapter.lineage()
    steps = len(lineage["loss_per_step"])
    wall = lineage["wall_time_s"]
    schema = suite.answer_format.json_schema
    base_scores = await validity(base, data.test, schema)
    tuned_scores = await validity(tuned, data.test, schema)
    again = time.perf_counter()
    twin, _ = build(suite, data, name, Path(os.environ["HARNESS_CACHE_DIR"]))
    await twin.setup()
    return {
        "system": name, "source": source, "trained": tuned.adapter.trained, "adapter": str(tuned.adapter.path),
        "n_train": lineage["training_data"]["n_examples"], "steps": steps,
        "hyperparameters": lineage["hyperparameters"],
        "seconds_per_step": round(wall["train"] / steps, 2), "train_s": wall["train"], "load_s": wall["load"],
        "convert_s": wall["convert"], "setup_s": round(setup_s, 1), "setup_cpu_s": round(setup_cpu_s, 1), "peak_rss_gb_training": round(train_rss, 2),
        "first_loss": lineage["loss_per_step"][0], "final_loss": lineage["loss_per_step"][-1],
        "base": base_scores, "finetuned": tuned_scores,
        "second_setup_s (cache hit)": round(time.perf_counter() - again, 2), "second_trained": twin.adapter.trained,
        "peak_rss_gb": round(peak_rss_gb(), 2), "cold_total_s": round(time.perf_counter() - cold_started, 1),
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="held-out test questions (default 20)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--cache-dir", metavar="DIR", help="reuse this cache (default: a fresh one, so training is cold)")
    arguments = parser.parse_args()
    holder = None
    if arguments.cache_dir:
        os.environ["HARNESS_CACHE_DIR"] = arguments.cache_dir
    else:
        holder = tempfile.TemporaryDirectory(prefix="bench-finetune-")
        os.environ["HARNESS_CACHE_DIR"] = holder.name
    result = asyncio.run(main(arguments))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result, indent=2))
    for key in ("base", "finetuned"):
        scores = result[key]
        print(f"{key:>9}: json_parse {scores['json_parse']:.2f}  schema_valid {scores['json_schema_valid']:.2f}  "
              f"answer_exact {scores['answer_exact']:.2f}  ({scores['n']} questions, {scores['seconds']} s)")
    print(f"training: {result['steps']} steps x batch {result['hyperparameters']['batch_size']} on {result['n_train']} "
          f"examples, {result['seconds_per_step']} s/step, {result['train_s']:.0f} s training, {result['load_s']:.0f} s "
          f"loading, loss {result['first_loss']:.3f} -> {result['final_loss']:.3f}; "
          f"set-up {result['setup_s']:.0f} s wall / {result['setup_cpu_s']:.0f} s CPU")
    print(f"cold total {result['cold_total_s']:.0f} s, peak RSS {result['peak_rss_gb']} GB "
          f"(training {result['peak_rss_gb_training']} GB); second setup {result['second_setup_s (cache hit)']} s, "
          f"trained again: {result['second_trained']}; load average {result['load_average']}")
    if holder:
        holder.cleanup()
