"""What keying the cache by endpoint and scrubbing secrets cost per model call.

Prints microseconds per call for `ModelRequest.cache_key()` (scripted, local with a LoRA, hosted
with the endpoint from the environment), `scrub()` on a typical error message, and the size of
the environment the scrubber reads. The gateway's in-process budget is ~3 ms per call (what
litellm's own logging costs, which it skips), so these should stay in the tens of microseconds.

    python benchmarks/bench_cache_key.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def per_call_us(func, calls: int) -> float:
    func()  # warm: imports, lru caches, the LoRA digest
    started = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    from harness.gateway.providers import load_litellm
    from harness.gateway.request import ModelRequest
    from harness.secrets.scrub import known_secrets, register_secret, scrub

    load_litellm()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-0123456789abcdef")
    os.environ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
    register_secret("sk-bench-registered-0123456789")
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is the capital of France? " * 20}]
    with tempfile.TemporaryDirectory() as tmp:
        lora = Path(tmp) / "lora.gguf"
        lora.write_bytes(os.urandom(8 << 20))
        cases = {
            "scripted/echo": ModelRequest(model="scripted/echo", messages=messages),
            "local/gemma-3-270m + 8 MiB LoRA": ModelRequest(model="local/gemma-3-270m", messages=messages, params={"extra": {"lora_path": str(lora)}}),
            "openai/gpt-4o-mini (OPENAI_BASE_URL)": ModelRequest(model="openai/gpt-4o-mini", messages=messages),
        }
        started = time.perf_counter()
        cases["local/gemma-3-270m + 8 MiB LoRA"].cache_key()
        first_lora = time.perf_counter() - started
        for name, request in cases.items():
            print(f"cache_key {name:<40} {per_call_us(request.cache_key, args.calls):7.1f} us/call")
    print(f"first key with the LoRA (hashes 8 MiB once): {first_lora * 1000:.1f} ms")
    error = "litellm.AuthenticationError: OpenAIException - Incorrect API key provided: sk-bench-0123456789abcdef. " * 3
    print(f"scrub a {len(error)}-char error message                     {per_call_us(lambda: scrub(error), args.calls):7.1f} us/call")
    print(f"secrets known: {len(known_secrets())}, environment variables read per scrub: {len(os.environ)}")


if __name__ == "__main__":
    main()
