"""Where a model request goes: the endpoint litellm will call, for the cache key and the run record.

Two servers behind the same model name answer differently, so the response cache keys on the
endpoint, and run.json records it per system so `gate` sees a changed endpoint as a changed
config. The endpoint is resolved the way litellm resolves it: a `base_url` in the request, else
its `api_base`, else the provider's environment variables (`OPENAI_BASE_URL`, `OPENAI_API_BASE`,
`AZURE_API_BASE`, `OLLAMA_API_BASE`, ...), else the provider's default. The key also covers every
environment variable that steers the provider (names with BASE, URL, ENDPOINT, VERSION, REGION,
PROJECT, ... under the provider's prefix), so a variable this table does not know still cannot
make one server answer for another. In-process models key on what decides their output instead:
the local model file's hash, the runtime version and the LoRA file's hash. Never a credential.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.gateway.providers import FINGERPRINTS, is_in_process, load_litellm, provider_declaration
from harness.secrets.names import is_secret_name
from harness.secrets.redact import redact_url
from harness.secrets.scrub import environ_where, register_secret

# litellm's lookup order when a request names no endpoint (the first one set wins)
BASE_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
    "text-completion-openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
    "azure": ("AZURE_API_BASE",),
    "azure_text": ("AZURE_API_BASE",),
    "azure_ai": ("AZURE_AI_API_BASE",),
    "anthropic": ("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"),
    "ollama": ("OLLAMA_API_BASE",),
    "ollama_chat": ("OLLAMA_API_BASE",),
    "vertex_ai": ("VERTEXAI_API_BASE", "VERTEX_API_BASE"),
    "watsonx": ("WATSONX_API_BASE", "WATSONX_URL", "WX_URL", "WML_URL"),
}
VERSION_ENV: dict[str, tuple[str, ...]] = {
    "azure": ("AZURE_API_VERSION",),
    "azure_text": ("AZURE_API_VERSION",),
    "azure_ai": ("AZURE_AI_API_VERSION", "AZURE_API_VERSION"),
}
DEFAULT_BASE: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "text-completion-openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://localhost:11434",
    "ollama_chat": "http://localhost:11434",
}
# environment prefixes a provider reads besides its own upper-cased name
ENV_PREFIXES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_",),
    "text-completion-openai": ("OPENAI_",),
    "azure_ai": ("AZURE_AI_", "AZURE_"),
    "azure_text": ("AZURE_",),
    "bedrock": ("AWS_", "BEDROCK_"),
    "sagemaker": ("AWS_", "SAGEMAKER_"),
    "vertex_ai": ("VERTEXAI_", "VERTEX_", "GOOGLE_CLOUD_"),
    "ollama_chat": ("OLLAMA_",),
    "watsonx": ("WATSONX_", "WX_", "WML_"),
    "together_ai": ("TOGETHER_", "TOGETHERAI_", "TOGETHER_AI_"),
}
SETTING_WORDS = ("BASE", "URL", "ENDPOINT", "HOST", "VERSION", "REGION", "LOCATION", "PROJECT", "DEPLOYMENT", "ORGANIZATION", "PROXY")


def resolved_endpoint(model: str, params: Any = None) -> dict[str, Any]:
    """Where requests for `model` with these generation params go, for the run record.

    {"provider", "api_base", "api_version"} for hosted models (api_base as litellm will use it,
    None for a provider default this table does not know; URL passwords and secret query values
    masked); in-process models add what decides their output (model file hash, runtime, LoRA hash).
    Never a credential.
    """
    record = _describe(model, _extra(params))
    record.pop("settings", None)
    if record.get("api_base"):
        record["api_base"] = redact_url(record["api_base"])
    return record


def endpoint_fingerprint(model: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Everything about the destination that can change a reply (hashed into the cache key)."""
    return _describe(model, extra)


def _extra(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(params.get("extra", params) or {})
    return dict(getattr(params, "extra", None) or {})


def _describe(model: str, extra: dict[str, Any]) -> dict[str, Any]:
    if is_in_process(model):
        return _in_process(model, extra)
    provider, base = _provider(model, extra, explicit_base(extra))
    source_names = BASE_ENV.get(provider, (f"{_prefix(provider)}API_BASE", f"{_prefix(provider)}BASE_URL"))
    if not base:
        base = _global_base() or _first_env(source_names) or DEFAULT_BASE.get(provider)
    version = extra.get("api_version") or _first_env(VERSION_ENV.get(provider, ()))
    return {
        "provider": provider,
        "api_base": str(base).rstrip("/") if base else None,
        "api_version": str(version) if version else None,
        "settings": _settings(provider, (*source_names, *VERSION_ENV.get(provider, ()))),
    }


def explicit_base(extra: dict[str, Any]) -> str | None:
    """The address a request names, as litellm's `completion` picks it: `base_url` wins over
    `api_base` whenever it is given."""
    base_url = extra.get("base_url")
    return base_url if base_url is not None else extra.get("api_base")


def _provider(model: str, extra: dict[str, Any], explicit: str | None) -> tuple[str, str | None]:
    """(provider, api_base) as litellm's own routing decides them; the base may come from env."""
    litellm = load_litellm()
    try:
        _, provider, _, base = litellm.get_llm_provider(
            model=model, custom_llm_provider=extra.get("custom_llm_provider"), api_base=explicit
        )
    except Exception:  # noqa: BLE001 - an unroutable model fails on its call, with litellm's message
        provider, base = (model.split("/", 1)[0] if "/" in model else "unknown"), explicit
    return str(provider), (str(base) if base else None)


def register_provider_keys(model: str) -> None:
    """Tell the scrubber the key litellm will send for `model` (and litellm's global keys).

    Keys in variables with secret-looking names are known anyway; this catches the rest.
    """
    litellm = load_litellm()
    try:
        key = litellm.get_llm_provider(model=model)[2]
    except Exception:  # noqa: BLE001 - an unroutable model fails on its call
        key = None
    for value in (key, getattr(litellm, "api_key", None), getattr(litellm, "openai_key", None)):
        register_secret(value)


def _global_base() -> str | None:
    litellm = load_litellm()
    return getattr(litellm, "api_base", None) or None


def _prefix(provider: str) -> str:
    return provider.upper().replace("-", "_") + "_"


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        if value := os.environ.get(name, "").strip():
            return value
    return None


def _settings(provider: str, resolved: tuple[str, ...]) -> list[list[str]]:
    """Non-secret environment variables that steer this provider (or litellm's routing).

    Those already resolved into api_base/api_version are left out, so an address given in the
    suite and the same address from the environment make one key.
    """
    prefixes = (_prefix(provider), *ENV_PREFIXES.get(provider, ()), "LITELLM_")
    found = [
        [name, value]
        for name, value in environ_where(lambda name: _steers(name, prefixes)).items()
        if name not in resolved
    ]
    if os.environ.get("USE_LITELLM_PROXY"):
        found.append(["USE_LITELLM_PROXY", os.environ["USE_LITELLM_PROXY"]])
    return sorted(found)


@lru_cache(maxsize=8192)
def _steers(name: str, prefixes: tuple[str, ...]) -> bool:
    return name.startswith(prefixes) and any(word in name for word in SETTING_WORDS) and not is_secret_name(name)


# --- in-process models ------------------------------------------------------------------------


def _in_process(model: str, extra: dict[str, Any]) -> dict[str, Any]:
    """What decides an in-process model's output, as its provider declares it (the scripted
    models' script is the model, and its name is in the key already)."""
    provider = model.partition("/")[0]
    declared = provider_declaration(FINGERPRINTS, provider)
    return declared(model, extra) if declared is not None else {"provider": provider}


def lora_path(extra: dict[str, Any]) -> str | None:
    """The LoRA file the local provider will load: top-level `lora_path` wins over `extra_body`'s."""
    nested = extra.get("extra_body") if isinstance(extra.get("extra_body"), dict) else {}
    path = extra.get("lora_path") or nested.get("lora_path")
    return str(path) if path else None


@lru_cache(maxsize=32)
def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return None


_digests: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's contents, computed once per (path, size, mtime); "missing:<path>" if absent."""
    resolved = Path(path).expanduser().resolve()
    try:
        stat = resolved.stat()
    except OSError:
        return f"missing:{resolved}"  # the call itself fails with the provider's own message
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _digest_lock:
        if key in _digests:
            return _digests[key]
    with resolved.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    with _digest_lock:
        _digests[key] = digest
    return digest
