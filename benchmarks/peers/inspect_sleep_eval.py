"""The peer workload for inspect_ai: N examples x S models that sleep `latency_ms` and echo the input.

Run by benchmarks/bench_peers.py with the interpreter of a separate venv that has inspect-ai:
    python inspect_sleep_eval.py --examples 1000 --systems 5 --latency-ms 100 --concurrency 50 --log-dir DIR
Model outputs are cached (generate(cache=True), under $INSPECT_CACHE_DIR), so a second run with
the same cache folder is the cached re-run.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, ModelAPI, ModelOutput, modelapi
from inspect_ai.scorer import exact
from inspect_ai.solver import generate

LATENCY_S = 0.1


@modelapi(name="sleepy")
class SleepyAPI(ModelAPI):
    """A model API that waits like a remote model and answers with the prompt."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config)

    async def generate(self, input: list, tools: list, tool_choice: Any, config: GenerateConfig) -> ModelOutput:  # noqa: A002
        await asyncio.sleep(LATENCY_S)
        return ModelOutput.from_content(model=self.model_name, content=input[-1].text)


def main() -> None:
    global LATENCY_S
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--systems", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--log-dir", required=True)
    args = parser.parse_args()
    LATENCY_S = args.latency_ms / 1000
    samples = [Sample(id=f"q{i}", input=f"question {i}", target=f"question {i}") for i in range(args.examples)]
    task = Task(dataset=MemoryDataset(samples), solver=generate(cache=True), scorer=exact())
    per_model = max(1, args.concurrency // args.systems)  # the same calls in flight in total
    logs = eval(
        task,
        model=[f"sleepy/m{j}" for j in range(args.systems)],
        max_connections=per_model,
        max_samples=per_model,
        max_tasks=args.systems,
        log_dir=args.log_dir,
        display="none",
    )
    failed = [log.eval.model for log in logs if log.status != "success"]
    if failed:
        raise SystemExit(f"inspect eval did not succeed for {failed}")
    scores = [{name: m.value for name, m in log.results.scores[0].metrics.items()} for log in logs]
    samples = [log.results.completed_samples for log in logs]
    print(f"inspect_ai: {len(logs)} models, completed samples {samples}, scores {scores}")


if __name__ == "__main__":
    main()
