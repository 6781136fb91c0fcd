"""Secrets never reach disk: redaction of secret-looking config keys and a process-wide scrubber.

- `redact(obj)` is for structured config written to disk (run.json, baselines, reports): values
  of secret-looking keys (`api_key`, `token`, `authorization`; not `max_tokens`) and of credential
  headers become "***"; URLs lose their password and secret query values (`redact_url`).
- `scrub(text)` is for free text (errors, audit lines, samples, logs): every occurrence of a
  secret value the process knows becomes "***".

The scrubber replaces every occurrence, so it knows only values from a secret source: variables
with secret-looking names (`OPENAI_API_KEY`), and what `register_secret` gets (harness.secrets.sources:
values under secret-looking keys and headers, `${VAR}` of secret-looking variables, URL passwords
and key query values). A weak value (`is_strong_secret`) or one a suite's own words hold
(`register_vocabulary`: keys, system and metric names, kinds, models) is never one: scrubbing it
would rewrite outputs, names and keys all over a run record while protecting nothing.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from harness.secrets.names import MASK, MIN_SECRET_LENGTH, is_secret_name, is_strong_secret

_lock = threading.Lock()
_registered: set[str] = set()
_vocabulary: set[str] = set()


def _in_vocabulary(value: str, vocabulary: Iterable[str]) -> bool:
    return any(value in word for word in vocabulary)


def register_secret(value: Any) -> None:
    """Make `scrub` replace this value from now on, if it is strong and no suite's word holds it."""
    global _registered_frozen
    if not isinstance(value, str) or not is_strong_secret(value := value.strip()):
        return
    with _lock:
        if value not in _registered and not _in_vocabulary(value, _vocabulary):
            _registered.add(value)
            _registered_frozen = frozenset(_registered)


def register_vocabulary(words: Iterable[Any]) -> None:
    """Words a suite uses as names (keys, system and metric names, kinds, models): never secrets.
    A registered value that one of them holds is dropped, so the order of loading does not matter."""
    global _registered_frozen, _vocabulary_frozen
    with _lock:
        if not (new := {w for w in words if isinstance(w, str) and len(w) >= MIN_SECRET_LENGTH} - _vocabulary):
            return
        _vocabulary.update(new)
        _vocabulary_frozen = frozenset(_vocabulary)
        _registered.difference_update({value for value in _registered if _in_vocabulary(value, new)})
        _registered_frozen = frozenset(_registered)


def environ_where(wanted: Callable[[str], bool]) -> dict[str, str]:
    """The environment variables whose name passes `wanted` (a cached, cheap test).

    Read on every call (tests and users change the environment), so it is made cheap: names
    are decoded once and values only for the names that pass (`os.environ.items()` decodes
    every pair, too slow for a scrub per sample).
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
            value.strip() for value in environ_where(is_secret_name).values() if is_strong_secret(value.strip())
        )
    seen = _env_seen
    if seen is None or seen[0] != data.keys():
        names = frozenset(data)  # another thread may set a variable: copy before iterating
        seen = (names, tuple(raw for raw in names if is_secret_name(_decoded_name(raw))), None, frozenset())
    raw_values = tuple(data.get(raw) for raw in seen[1])
    if raw_values != seen[2]:
        decoded = (os.environ.decodevalue(raw).strip() for raw in raw_values if raw is not None)
        seen = (seen[0], seen[1], raw_values, frozenset(v for v in decoded if is_strong_secret(v)))
    _env_seen = seen
    return seen[3]


# (environment names, secret-looking raw names, their raw values, the secret values) last seen
_env_seen: tuple[frozenset[Any], tuple[Any, ...], tuple[Any, ...] | None, frozenset[str]] | None = None
# (registered values, environment secrets, vocabulary) -> the union, kept while none changes
_known: tuple[frozenset[str], ...] = (frozenset(), frozenset(), frozenset(), frozenset())
_registered_frozen: frozenset[str] = frozenset()
_vocabulary_frozen: frozenset[str] = frozenset()


def known_secrets() -> frozenset[str]:
    """Every value `scrub` replaces right now (registered ones and secret-named environment values)."""
    global _known
    registered, environment, vocabulary = _registered_frozen, _environment_secrets(), _vocabulary_frozen
    known = _known
    if known[0] is not registered or known[1] is not environment or known[2] is not vocabulary:
        kept = frozenset(v for v in environment if not _in_vocabulary(v, vocabulary))
        known = _known = (registered, environment, vocabulary, registered | kept)
    return known[3]


def forget_secrets() -> None:
    """Drop every registered value and vocabulary word (tests; the environment is read on every scrub)."""
    global _registered_frozen, _vocabulary_frozen
    with _lock:
        _registered.clear()
        _registered_frozen = frozenset()
        _vocabulary.clear()
        _vocabulary_frozen = frozenset()


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
