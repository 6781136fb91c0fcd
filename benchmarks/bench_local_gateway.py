"""Local model throughput: llama.cpp used directly vs the harness's local provider, and the
batched engine at 1, 2, 4 and 8 sequences per decode.

Every path uses the same GGUF, thread count and context (harness.local.generator.llama_settings),
the same rendered prompts, stops and greedy decoding. Two workloads: "qa" (short grounded
answers, ended by stop strings: prompt-heavy, like the demo) and "decode" (no stop strings, every
answer runs to max_tokens: generation-bound). Configurations alternate within each round so
background load hits them alike; wall time AND process CPU time are reported, because on a
shared machine tokens per CPU-second is the steadier figure. Run:

    python benchmarks/bench_local_gateway.py [--rounds 1] [--max-tokens 48] [--workloads qa,decode]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

FACTS = [
    ("The Eiffel Tower is in Paris. It was completed in 1889.", "In what year was the Eiffel Tower completed?"),
    ("Mount Kilimanjaro is the highest mountain in Africa, at 5,895 metres.", "What is the highest mountain in Africa?"),
    ("The Danube flows through ten countries and ends in the Black Sea.", "Where does the Danube end?"),
    ("Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.", "In what year did Marie Curie win the Nobel Prize in Chemistry?"),
    ("Python was created by Guido van Rossum and first released in 1991.", "Who created Python?"),
    ("The Pacific is the largest and deepest ocean on Earth.", "Which ocean is the largest?"),
    ("Photosynthesis turns light, water and carbon dioxide into glucose and oxygen.", "What gas does photosynthesis release?"),
    ("The Great Wall of China is more than 21,000 kilometres long.", "How long is the Great Wall of China?"),
    ("Canberra is the capital of Australia; Sydney is its largest city.", "What is the capital of Australia?"),
    ("Water boils at 100 degrees Celsius at sea level.", "At what temperature does water boil at sea level?"),
    ("The Amazon rainforest covers much of the Amazon basin in South America.", "Where is the Amazon rainforest?"),
    ("Jupiter is the largest planet in the Solar System.", "Which planet is the largest?"),
    ("The Rosetta Stone was found in 1799 near the town of Rashid in Egypt.", "Where was the Rosetta Stone found?"),
    ("Honey bees communicate the direction of flowers with a waggle dance.", "How do honey bees share where flowers are?"),
    ("The Sahara is the largest hot desert in the world.", "What is the largest hot desert?"),
    ("Beethoven composed nine symphonies; the ninth ends with a choral finale.", "How many symphonies did Beethoven compose?"),
]
BATCHES = (1, 2, 4, 7, 8)  # 8 is past MAX_BATCH: measured to show what exactness costs


def messages(context: str, question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Answer using only this context: {context}\nQuestion: {question}\nAnswer:"}]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass
class Tally:
    tokens: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    texts: list[str] = field(default_factory=list)

    def add(self, texts: list[str], tokens: int, wall: float, cpu: float) -> None:
        self.texts += texts
        self.tokens += tokens
        self.wall += wall
        self.cpu += cpu


async def timed(run) -> tuple[list[str], int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    texts, tokens = await run()
    return texts, tokens, time.perf_counter() - wall, time.process_time() - cpu


async def main(rounds: int, max_tokens: int, workloads: list[str]) -> None:
    from harness.gateway import Gateway, GenerationParams, ModelRequest
    from harness.local.completion_prompt import call_options, render_prompt
    from harness.local.engine import MAX_BATCH
    from harness.local.generator import LocalGenerator, batch_size, get_generator, import_llama_cpp, llama_settings
    from harness.local.model_file import gemma_path

    settings = llama_settings()
    llama_cpp = import_llama_cpp()
    model = gemma_path()
    load_avg_start = os.getloadavg()
    started = time.perf_counter()
    direct = llama_cpp.Llama(model_path=str(model), **settings)
    direct_load_s = time.perf_counter() - started
    engines = {n: LocalGenerator(max_batch=n, exact=n <= MAX_BATCH) for n in BATCHES}
    gateway_batch = batch_size()
    gateway = Gateway(timeout_s=600, concurrency_per_provider={"local": gateway_batch})
    prompts = [messages(c, q) for c, q in FACTS]

    def extra(workload: str) -> dict:
        return {} if workload == "qa" else {"default_stop": []}

    def run_direct(workload: str):
        options = call_options({"max_tokens": max_tokens, "temperature": 0.0, "seed": 0, **extra(workload)})

        async def go():
            texts, tokens = [], 0
            for msgs in prompts:
                out = direct.create_completion(
                    render_prompt(msgs), max_tokens=options.max_tokens, temperature=0.0, top_p=options.top_p,
                    seed=options.seed, stop=list(options.stop),
                )
                texts.append(out["choices"][0]["text"].strip())
                tokens += out["usage"]["completion_tokens"]
            return texts, tokens

        return go

    def run_gateway(workload: str, together: bool):
        params = GenerationParams(max_tokens=max_tokens, extra=extra(workload))
        requests = [ModelRequest(model="local/gemma-3-270m", messages=m, params=params) for m in prompts]

        async def go():
            if together:
                replies = await asyncio.gather(*(gateway.complete(r) for r in requests))
            else:
                replies = [await gateway.complete(r) for r in requests]
            return [r.text for r in replies], sum(r.usage.output_tokens for r in replies)

        return go

    def run_engine(workload: str, n: int):
        options = call_options({"max_tokens": max_tokens, "temperature": 0.0, "seed": 0, **extra(workload)})

        async def go():
            futures = [engines[n].submit(render_prompt(m), options) for m in prompts]
            done = [f.result() for f in futures]
            return [g.text for g in done], sum(g.completion_tokens for g in done)

        return go

    # load everything once, outside the timings
    warm = call_options({"max_tokens": 2})
    started = time.perf_counter()
    await gateway.complete(ModelRequest(model="local/gemma-3-270m", messages=prompts[0], params=GenerationParams(max_tokens=2)))
    first_gateway_s = time.perf_counter() - started
    for generator in engines.values():
        generator.generate(render_prompt(prompts[0]), warm)
    direct.create_completion(render_prompt(prompts[0]), max_tokens=2, temperature=0.0)

    configs = [("llama.cpp direct, one at a time", "direct")]
    configs += [("gateway, one request at a time", "gateway-seq")]
    configs += [(f"gateway, {len(prompts)} requests at once", "gateway-all")]
    configs += [(f"engine, batch {n}" + ("" if n <= MAX_BATCH else " (inexact)"), f"engine-{n}") for n in BATCHES]
    results = {(w, key): Tally() for w in workloads for _, key in configs}
    for round_no in range(rounds):
        for workload in workloads:
            order = configs if round_no % 2 == 0 else configs[::-1]
            for _, key in order:
                if key == "direct":
                    run = run_direct(workload)
                elif key.startswith("gateway"):
                    run = run_gateway(workload, together=key == "gateway-all")
                else:
                    run = run_engine(workload, int(key.split("-")[1]))
                results[(workload, key)].add(*await timed(run))
    load_avg_end = os.getloadavg()
    direct.close()
    for generator in engines.values():
        generator.close()
    get_generator().close()

    print(f"llama settings: n_threads={settings['n_threads']} n_ctx={settings['n_ctx']} (per sequence); "
          f"{len(prompts)} prompts x {rounds} round(s), max_tokens={max_tokens}, greedy; cpu cores {os.cpu_count()}")
    print(f"load average (1 min) at start {load_avg_start[0]:.2f}, at end {load_avg_end[0]:.2f}")
    print(f"model load: direct Llama {direct_load_s:.2f} s, harness engine {engines[7].load_s:.2f} s (batch 7 context); "
          f"first gateway call incl. litellm import + load: {first_gateway_s:.2f} s; gateway local concurrency {gateway_batch}")
    for workload in workloads:
        base = results[(workload, "engine-1")].texts
        ref = results[(workload, "direct")].texts
        print(f"\nworkload {workload!r}:")
        print(f"{'path':<36}{'tokens':>8}{'wall s':>9}{'tok/s':>8}{'cpu s':>8}{'tok/cpu-s':>11}{'= batch 1':>11}{'= direct':>10}")
        for label, key in configs:
            t = results[(workload, key)]
            same_base = sum(a == b for a, b in zip(t.texts, base))
            same_ref = sum(a == b for a, b in zip(t.texts, ref))
            print(f"{label:<36}{t.tokens:>8}{t.wall:>9.2f}{t.tokens / t.wall:>8.1f}{t.cpu:>8.2f}{t.tokens / t.cpu:>11.1f}"
                  f"{f'{same_base}/{len(base)}':>11}{f'{same_ref}/{len(ref)}':>10}")
    print(f"\npeak RSS: {peak_rss_mb():.0f} MiB (direct Llama + 5 harness engines + litellm in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--workloads", default="qa,decode", help="comma-separated: qa, decode")
    args = parser.parse_args()
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(chosen) - {"qa", "decode"})
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from qa, decode")
    asyncio.run(main(args.rounds, args.max_tokens, chosen))
