"""Secrets never reach disk: redaction of secret-looking config keys and a process-wide scrubber.

Two tools, for two kinds of output:

- `redact(obj)` is for structured config written to disk (run.json, baselines, reports): the
  values of keys that look secret (`api_key`, `x-api-key`, `token`, `password`, `authorization`,
  ...) and every HTTP header value become "***", and URLs lose their password and secret query
  values. Keys that only mention tokens as counts (`max_tokens`) stay.
- `scrub(text)` is for free text (error messages, audit lines, logs): every occurrence of a secret
  value the process knows is replaced by "***".

The scrubber knows
- the value of every environment variable whose name looks secret (`OPENAI_API_KEY`,
  `AZURE_API_KEY`, `HF_TOKEN`, ...): that covers the keys litellm sends for the models of a run;
- every value registered with `register_secret`: the suite loader registers what `${VAR}`
  expansion put into a config (except endpoint addresses and model names), values under
  secret-looking keys, and header values.

Values shorter than MIN_SECRET_LENGTH are never scrubbed: replacing "1" everywhere would wreck
every report while protecting nothing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4
MIN_ENV_SECRET_LENGTH = 8  # env values like "1" or "true" under a secret-looking name are flags

# a word that makes the name secret wherever it stands (`hf_token`, `client_secret`, `auth`)
_SECRET_WORDS = frozenset(
    {"token", "secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials",
     "authorization", "auth", "cookie", "bearer", "apikey", "signature"}
)  # fmt: skip
# endings of a single word that make it secret (`apikey`, `hftoken`, `pgpassword`, `clientsecret`)
_SECRET_ENDINGS = ("key", "keys", "token", "secret", "password", "passwd", "credentials")
# harness identifiers that end in "key" but hold hashes, not credentials
_NOT_SECRET = frozenset({"key", "keys", "cache_key", "request_key", "lora_key", "adapter_key", "sort_key", "index_key", "primary_key"})
_HEADER_MAPS = frozenset({"headers", "extra_headers", "default_headers", "http_headers"})
# header values that describe the request rather than authorise it: not worth scrubbing from text
_PLAIN_HEADERS = frozenset({"content-type", "accept", "accept-encoding", "content-encoding", "user-agent", "cache-control", "connection"})

_lock = threading.Lock()
_registered: set[str] = set()


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a config key or variable name holds a credential (`api_key`, `X-Api-Key`, `HF_TOKEN`)."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower()
    words = re.findall(r"[a-z0-9]+", snake)
    if not words or "_".join(words) in _NOT_SECRET:
        return False
    if any(word in _SECRET_WORDS for word in words):
        return True
    return words[-1].endswith(_SECRET_ENDINGS) or any(
        word.endswith(("token", "secret", "password", "passwd")) and word not in ("tokens",) for word in words
    )


def register_secret(value: Any) -> None:
    """Make `scrub` replace this value from now on (strings of MIN_SECRET_LENGTH or more)."""
    global _registered_frozen
    if isinstance(value, str) and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _lock:
            if value.strip() not in _registered:
                _registered.add(value.strip())
                _registered_frozen = frozenset(_registered)


def register_config_secrets(config: Any) -> None:
    """Register the values under secret-looking keys, and header values, found anywhere in `config`."""
    for value in _secret_values(config):
        register_secret(value)


def _secret_values(obj: Any, secret: bool = False) -> list[str]:
    if isinstance(obj, str):
        return [obj] if secret else []
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if str(key).lower() in _HEADER_MAPS and isinstance(value, dict):
                found += [v for k, v in value.items() if isinstance(v, str) and str(k).lower() not in _PLAIN_HEADERS]
            else:
                found += _secret_values(value, secret or is_secret_name(str(key)))
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found += _secret_values(value, secret)
    return found


def environ_where(wanted: Callable[[str], bool]) -> dict[str, str]:
    """The environment variables whose name passes `wanted` (a cached, cheap test).

    Read on every call (tests and users change the environment), so it is made cheap: names
    are decoded once and values only for the names that pass; `os.environ.items()` decodes
    every pair, which made each scrub cost ~60 us.
    """
    data = getattr(os.environ, "_data", None)
    decode_value = getattr(os.environ, "decodevalue", None)
    if not isinstance(data, dict) or decode_value is None:
        return {name: value for name, value in os.environ.items() if wanted(name)}
    found = {}
    for raw_name, raw_value in list(data.items()):  # a copy: another thread may set a variable
        name = _decoded_name(raw_name)
        if wanted(name):
            found[name] = decode_value(raw_value)
    return found


@lru_cache(maxsize=4096)
def _decoded_name(raw: Any) -> str:
    return os.environ.decodekey(raw) if hasattr(os.environ, "decodekey") else str(raw)


def _environment_secrets() -> frozenset[str]:
    """The values of secret-named environment variables, read afresh on every call.

    Every sample passes `scrub`, so this is made cheap: the set of variable names is compared
    with the last one seen (in C), names are classified only when it changed, and only the values
    of secret-named variables are read and compared.
    """
    global _env_seen
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict) or not hasattr(os.environ, "decodevalue"):
        return frozenset(
            value.strip() for value in environ_where(is_secret_name).values()
            if len(value.strip()) >= MIN_ENV_SECRET_LENGTH
        )
    seen = _env_seen
    if seen is None or seen[0] != data.keys():
        names = frozenset(data)  # another thread may set a variable: copy before iterating
        seen = (names, tuple(raw for raw in names if is_secret_name(_decoded_name(raw))), None, frozenset())
    raw_values = tuple(data.get(raw) for raw in seen[1])
    if raw_values != seen[2]:
        decoded = (os.environ.decodevalue(raw).strip() for raw in raw_values if raw is not None)
        seen = (seen[0], seen[1], raw_values, frozenset(v for v in decoded if len(v) >= MIN_ENV_SECRET_LENGTH))
    _env_seen = seen
    return seen[3]


# (environment names, secret-looking raw names, their raw values, the secret values) last seen
_env_seen: tuple[frozenset[Any], tuple[Any, ...], tuple[Any, ...] | None, frozenset[str]] | None = None
# (registered values, environment secrets) -> the union, kept while neither changes
_known: tuple[frozenset[str], frozenset[str], frozenset[str]] = (frozenset(), frozenset(), frozenset())
_registered_frozen: frozenset[str] = frozenset()


def known_secrets() -> frozenset[str]:
    """Every value `scrub` replaces right now (registered ones and secret-named environment values)."""
    global _known
    registered, environment = _registered_frozen, _environment_secrets()
    known = _known
    if known[0] is not registered or known[1] is not environment:
        known = _known = (registered, environment, registered | environment)
    return known[2]


def forget_secrets() -> None:
    """Drop every registered value (tests; the environment is read afresh on every scrub)."""
    global _registered_frozen
    with _lock:
        _registered.clear()
        _registered_frozen = frozenset()


@lru_cache(maxsize=64)
def _variants(secrets: frozenset[str]) -> tuple[str, ...]:
    """Each secret as written raw and inside a JSON string, longest first (so a longer one wins)."""
    forms = set(secrets)
    forms |= {json.dumps(s)[1:-1] for s in secrets} | {json.dumps(s, ensure_ascii=False)[1:-1] for s in secrets}
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def scrub(text: Any) -> str:
    """`text` with every known secret value replaced by "***"."""
    text = str(text)
    for secret in _variants(known_secrets()):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(obj: Any) -> Any:
    """A deep copy of `obj` with secret-looking keys' values (and header values) set to "***".

    Strings elsewhere are scrubbed of known secrets, and URLs lose passwords and secret query values.
    """
    return _redact(obj, False)


def _redact(obj: Any, secret: bool) -> Any:
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            hidden = secret or is_secret_name(str(key))
            if str(key).lower() in _HEADER_MAPS and isinstance(value, dict):
                out[key] = {name: MASK if item is not None else None for name, item in value.items()}
            else:
                out[key] = _redact(value, hidden)
        return out
    if isinstance(obj, (list, tuple)):
        return [_redact(value, secret) for value in obj]
    if secret and obj is not None and not isinstance(obj, bool):
        return MASK
    if isinstance(obj, str):
        return scrub(redact_url(obj))
    return obj


def redact_url(text: str) -> str:
    """A URL without its password and without the values of secret-looking query parameters."""
    if "://" not in text or ("@" not in text and "?" not in text) or any(c.isspace() for c in text.strip()):
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) or k.lower() in ("key", "sig", "code") else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_installed = False


def install_log_scrubber() -> None:
    """Scrub every log record the process creates (litellm's, httpx's, ours) before any handler sees it."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = scrub(record.getMessage()), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        except Exception:  # noqa: BLE001, S110 - a log line must never raise; the record goes out as it was
            pass
        return record

    logging.setLogRecordFactory(scrubbed_record)
