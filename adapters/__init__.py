"""Systems under test. Importing this package registers every built-in kind."""

from adapters import custom, fewshot, finetuned, hybrid, oracle, prompt, rag, replay  # noqa: F401
