"""Offline default models served in-process behind the gateway (`model: local/...`).

Nothing heavy is imported here: llama-cpp-python and sentence-transformers load on the first
real call, so `harness --help` and litellm start-up stay fast.
"""

from harness.local.catalog import LOCAL_MODELS, LocalModelError

__all__ = ["LOCAL_MODELS", "LocalModelError"]
