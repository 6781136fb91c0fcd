"""Fine-tuning for `kind: finetuned` / `kind: hybrid`: a LoRA trained locally from the train split,
or a hosted job fed the same prompts.

Modules here import torch/transformers/peft only inside the functions that train, so the
package is cheap to import (`harness --help` imports `harness.finetune.cli`).
"""
