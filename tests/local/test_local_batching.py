"""Batched decoding on the real model: the same answers as one request at a time, and as
llama-cpp-python's own create_completion on the same kernels."""

from __future__ import annotations

import importlib.util
import os

import pytest

from harness.local.completion_prompt import call_options

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs the [local] extra (llama-cpp-python)"),
]

PROMPTS = [
    "Answer using only this context: The Eiffel Tower is in Paris. It was completed in 1889.\n"
    "Question: In what year was the Eiffel Tower completed?\nAnswer:",
    "Answer using only this context: The Danube flows through ten countries and ends in the Black Sea.\n"
    "Question: Where does the Danube end?\nAnswer:",
    "Question: Name three colours of the rainbow.\nAnswer:",
    "The history of the bicycle begins in",
    "Documents:\n[1] Canberra is the capital of Australia; Sydney is its largest city.\n\nQuestion: What is the capital?\nAnswer:",
]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
GREEDY = call_options({"max_tokens": 16, "temperature": 0.0, "seed": 0})
JSON = call_options({"max_tokens": 16, "temperature": 0.0, "seed": 0, "response_format": {"type": "json_object", "schema": SCHEMA}})
SAMPLED = call_options({"max_tokens": 12, "temperature": 0.8, "top_p": 0.9, "seed": 7})


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # other test processes share the cores; oversubscribed threads collapse throughput
    monkeypatch.setenv("HARNESS_LOCAL_THREADS", os.environ.get("HARNESS_LOCAL_THREADS", "1"))


def requests() -> list[tuple[str, object]]:
    return [(p, GREEDY) for p in PROMPTS] + [(p, JSON) for p in PROMPTS[:2]] + [(p, SAMPLED) for p in PROMPTS[:2]]


def test_batched_decoding_gives_the_answers_of_one_request_at_a_time() -> None:
    from harness.local.generator import LocalGenerator

    alone, together = LocalGenerator(max_batch=1), LocalGenerator(max_batch=4)
    try:
        one_by_one = [alone.generate(prompt, options) for prompt, options in requests()]
        futures = [together.submit(prompt, options) for prompt, options in requests()]  # all waiting at once
        batched = [future.result(timeout=600) for future in futures]
        shared_steps = together.scheduler.sequence_steps / together.scheduler.steps
    finally:
        alone.close()
        together.close()
    assert batched == one_by_one  # text, token counts and finish reason
    assert shared_steps > 1.5  # the sequences really were decoded together
    assert {g.finish_reason for g in one_by_one} == {"stop", "length"}
    assert all(g.text.startswith("{") for g in one_by_one[5:7])  # the grammar held


def test_answers_match_create_completion_run_on_the_same_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine re-implements create_completion's stop, length and counting rules; checked here
    against llama-cpp-python itself, with weight repacking off in both (see harness.local.engine)."""
    import llama_cpp
    import llama_cpp.llama_cpp as bindings

    from harness.local.generator import LocalGenerator, llama_settings
    from harness.local.model_file import gemma_path

    default_params = bindings.llama_model_default_params

    def without_repacking():
        params = default_params()
        params.use_extra_bufts = False
        return params

    monkeypatch.setattr(bindings, "llama_model_default_params", without_repacking)
    reference = llama_cpp.Llama(model_path=str(gemma_path()), **llama_settings())
    generator = LocalGenerator(max_batch=4)
    try:
        futures = [generator.submit(prompt, options) for prompt, options in requests()[:7]]
        ours = [future.result(timeout=600) for future in futures]
        theirs = []
        for (prompt, options), _ in zip(requests()[:7], ours):
            grammar = generator.grammar(options.output)
            reference.reset()  # no prompt-prefix reuse from the previous call
            out = reference.create_completion(
                prompt, max_tokens=options.max_tokens, temperature=options.temperature, top_p=options.top_p,
                seed=options.seed, stop=list(options.stop), grammar=grammar,
            )
            theirs.append((out["choices"][0]["text"].strip(), out["usage"]["completion_tokens"], out["choices"][0]["finish_reason"]))
    finally:
        generator.close()
        reference.close()
    assert [(g.text, g.completion_tokens, g.finish_reason) for g in ours] == theirs
