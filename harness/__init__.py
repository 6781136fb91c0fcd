"""Evaluation harness that compares LLM approaches head-to-head on a team's own data."""

__version__ = "0.1.0"

# Heavy parts (pandas, litellm, llama.cpp) load on first use, so `import harness` stays instant.
_LAZY = {
    "load_run": "harness.results",
    "run_suite": "harness.results",
    "arun_suite": "harness.results",
    "RunResults": "harness.results",
    "write_reports": "harness.report",
}


def __getattr__(name: str):  # noqa: ANN201
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
