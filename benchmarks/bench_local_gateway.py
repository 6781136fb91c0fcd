"""What the gateway costs on the local model: tokens/s via Gateway vs direct llama-cpp-python.

Both paths use the same GGUF, the same Llama settings (harness.local.generator.llama_settings),
the same rendered prompts, stops and greedy decoding; rounds alternate between the two paths so
background load hits both alike. Run: python benchmarks/bench_local_gateway.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
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
]
MAX_TOKENS = 48


def messages(context: str, question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Answer using only this context: {context}\nQuestion: {question}\nAnswer:"}]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def main(rounds: int) -> None:
    from harness.gateway import Gateway, GenerationParams, ModelRequest
    from harness.local.generator import get_pool, import_llama_cpp, llama_settings
    from harness.local.model_file import gemma_path
    from harness.local.completion_prompt import call_options, render_prompt

    settings = llama_settings()
    started = time.perf_counter()
    model = gemma_path()
    verify_s = time.perf_counter() - started
    llama_cpp = import_llama_cpp()
    started = time.perf_counter()
    direct = llama_cpp.Llama(model_path=str(model), **settings)
    direct_load_s = time.perf_counter() - started

    gateway = Gateway(timeout_s=600)
    params = GenerationParams(max_tokens=MAX_TOKENS)
    requests = [ModelRequest(model="local/gemma-3-270m", messages=messages(c, q), params=params) for c, q in FACTS]
    options = call_options({"max_tokens": MAX_TOKENS, "temperature": 0.0, "seed": 0})

    def run_direct(request: ModelRequest) -> tuple[str, int, float]:
        t0 = time.perf_counter()
        out = direct.create_completion(
            render_prompt(request.messages), max_tokens=options.max_tokens, temperature=options.temperature,
            top_p=options.top_p, seed=options.seed, stop=list(options.stop),
        )
        return out["choices"][0]["text"].strip(), out["usage"]["completion_tokens"], time.perf_counter() - t0

    async def run_gateway(request: ModelRequest) -> tuple[str, int, float]:
        t0 = time.perf_counter()
        reply = await gateway.complete(request)
        return reply.text, reply.usage.output_tokens, time.perf_counter() - t0

    started = time.perf_counter()
    await run_gateway(requests[0])  # imports litellm, loads the pool's Llama
    first_gateway_s = time.perf_counter() - started
    pool = get_pool()
    gateway_load_s = pool.instance().load_s

    # time spent inside the model on the gateway path, so its own cost can be told from load noise
    model_seconds: list[float] = []
    generate = pool.generate

    def timed_generate(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return generate(*args, **kwargs)
        finally:
            model_seconds.append(time.perf_counter() - t0)

    pool.generate = timed_generate
    run_direct(requests[0])  # warm both paths the same way

    totals = {"direct": [0, 0.0], "gateway": [0, 0.0]}
    per_call: dict[str, list[float]] = {"direct": [], "gateway": []}
    same = 0
    for round_no in range(rounds):
        for request in requests:
            order = ("direct", "gateway") if round_no % 2 == 0 else ("gateway", "direct")
            texts = {}
            for path in order:
                text, tokens, seconds = run_direct(request) if path == "direct" else await run_gateway(request)
                texts[path] = text
                totals[path][0] += tokens
                totals[path][1] += seconds
                per_call[path].append(seconds)
            same += texts["direct"] == texts["gateway"]
    direct.close()

    rate = {path: tokens / seconds for path, (tokens, seconds) in totals.items()}
    overhead = (totals["gateway"][1] / totals["direct"][1] - 1) * 100
    deltas = [g - d for d, g in zip(per_call["direct"], per_call["gateway"])]
    calls = len(per_call["direct"])
    print(f"llama settings: n_threads={settings['n_threads']} n_ctx={settings['n_ctx']}; "
          f"{len(requests)} prompts x {rounds} rounds, max_tokens={MAX_TOKENS}, greedy")
    print(f"model file verify (sha256): {verify_s:.2f} s")
    print(f"model load: direct {direct_load_s:.2f} s, gateway pool {gateway_load_s:.2f} s; "
          f"first gateway call incl. litellm import + load: {first_gateway_s:.2f} s")
    for path in ("direct", "gateway"):
        tokens, seconds = totals[path]
        print(f"{path:8s}: {tokens} completion tokens in {seconds:.2f} s = {rate[path]:.1f} tok/s "
              f"(median call {statistics.median(per_call[path]) * 1000:.1f} ms)")
    print(f"gateway overhead: {overhead:+.1f}% of wall time; median per-call delta "
          f"{statistics.median(deltas) * 1000:+.2f} ms")
    own = [total - inside for total, inside in zip(per_call["gateway"], model_seconds)]
    print(f"gateway's own time per call (call minus time inside the model): median "
          f"{statistics.median(own) * 1000:.2f} ms, max {max(own) * 1000:.2f} ms")
    print(f"same text on both paths: {same}/{calls}")
    print(f"peak RSS: {peak_rss_mb():.0f} MiB (two Llama instances + litellm in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
