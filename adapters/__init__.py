"""Systems under test. Importing this package registers every built-in kind."""

from adapters import custom, fewshot, prompt, replay  # noqa: F401

for _optional in ("rag", "oracle", "finetuned", "hybrid"):
    try:
        __import__(f"adapters.{_optional}")
    except ModuleNotFoundError as _error:  # kinds whose module is not written yet
        if _error.name != f"adapters.{_optional}":
            raise
