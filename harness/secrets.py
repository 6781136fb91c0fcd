"""Secrets never reach disk: redaction of secret-looking config keys and a process-wide scrubber.

- `redact(obj)` is for structured config written to disk (run.json, baselines, reports): values
  of secret-looking keys (`api_key`, `token`, `authorization`; not `max_tokens`) and of credential
  headers become "***"; URLs lose their password and secret query values (`redact_url`).
- `scrub(text)` is for free text (errors, audit lines, samples, logs): every occurrence of a
  secret value the process knows becomes "***".

The scrubber replaces every occurrence, so it knows only values from a secret source: variables
with secret-looking names (`OPENAI_API_KEY`), and what `register_secret` gets (harness.secret_sources:
values under secret-looking keys and headers, `${VAR}` of secret-looking variables, URL passwords
and key query values). A weak value (`is_strong_secret`) or one a suite's own words hold
(`register_vocabulary`: keys, system and metric names, kinds, models) is never one: scrubbing it
would rewrite outputs, names and keys all over a run record while protecting nothing.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 8
MIN_SECRET_BITS = 24.0  # length x Shannon entropy of its characters: "aaaaaaaaaaaa", "password" fail

# a word that makes the name secret wherever it stands (`hf_token`, `client_secret`, `auth`)
_SECRET_WORDS = frozenset(
    {"token", "secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials",
     "authorization", "auth", "cookie", "bearer", "apikey", "signature"}
)  # fmt: skip
# endings of a single word that make it secret (`hftoken`, `pgpassword`, `clientsecret`)
_SECRET_ENDINGS = ("token", "secret", "password", "passwd", "credentials")
# "key" closes a secret name after another word (`api_key`, `MY_KEY`) or inside one word only after
# these (`apikey`, `accesskey`): `monkey`, `hotkey` and `whiskey` are words, not credentials
_KEY_OWNERS = ("api", "access", "secret", "private", "client", "app", "auth", "master", "signing",
               "subscription", "service", "account", "session", "encryption", "license", "ssh")  # fmt: skip
# harness identifiers that end in "key" but hold hashes, not credentials
_NOT_SECRET = frozenset({"key", "keys", "cache_key", "request_key", "lora_key", "adapter_key", "sort_key", "index_key", "primary_key"})
HEADER_MAPS = frozenset({"headers", "extra_headers", "default_headers", "http_headers"})
# URL query parameters that carry credentials without a secret-looking name (signed URLs)
_QUERY_SECRETS = frozenset({"key", "sig", "code"})

_lock = threading.Lock()
_registered: set[str] = set()
_vocabulary: set[str] = set()


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a config key or variable name holds a credential (`api_key`, `X-Api-Key`, `HF_TOKEN`)."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower()
    words = re.findall(r"[a-z0-9]+", snake)
    if not words or "_".join(words) in _NOT_SECRET:
        return False
    if any(word in _SECRET_WORDS or (word.endswith(_SECRET_ENDINGS) and word != "tokens") for word in words):
        return True
    last = words[-1]
    if last in ("key", "keys"):
        return len(words) > 1
    return last.endswith(tuple(owner + end for owner in _KEY_OWNERS for end in ("key", "keys")))


def is_secret_query_name(name: str) -> bool:
    """Whether a URL query (or fragment) parameter carries a credential (`api_key`, `sig`, `access_token`)."""
    return is_secret_name(name) or name.lower() in _QUERY_SECRETS


@lru_cache(maxsize=4096)
def is_strong_secret(value: str) -> bool:
    """Whether a value is worth scrubbing everywhere: at least MIN_SECRET_LENGTH characters, at least
    MIN_SECRET_BITS bits (length x Shannon entropy), and not a lowercase word under 16 letters
    ("changeme", "question"), which text holds for other reasons far more often than as a key."""
    if len(value) < MIN_SECRET_LENGTH or (value.isalpha() and value.islower() and len(value) < 16):
        return False
    counts = Counter(value).values()
    bits = -sum(n * math.log2(n / len(value)) for n in counts)
    return bits >= MIN_SECRET_BITS


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


def redact(obj: Any) -> Any:
    """A deep copy of `obj` with secret-looking keys' values set to "***".

    Header values become "***" under a secret-looking name (`Authorization`), or under any name
    when they could be a token (`is_strong_secret`); a plain setting (`X-Mode: exact`) stays, so
    `gate` sees it change. Strings elsewhere are scrubbed of known secrets, and URLs lose
    passwords and secret query values. Keys are never changed.
    """
    return _redact(obj, False)


def _redact(obj: Any, secret: bool) -> Any:
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            hidden = secret or is_secret_name(str(key))
            if str(key).lower() in HEADER_MAPS and isinstance(value, dict):
                out[key] = {name: _redact_header(str(name), item) for name, item in value.items()}
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


def _redact_header(name: str, value: Any) -> Any:
    if value is not None and (is_secret_name(name) or is_strong_secret(str(value).strip())):
        return MASK
    return _redact(value, False)


def redact_url(text: str) -> str:
    """A URL without its password and without the values of secret-looking query parameters.

    Every URL the harness records (run.json, samples, reports, errors) passes here; the rest of
    the URL is kept byte for byte, so a URL without a secret comes back unchanged.
    """
    if "://" not in text or not any(c in text for c in "@?#") or any(c.isspace() for c in text.strip()):
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
    query, fragment = _masked_pairs(parts.query), _masked_pairs(parts.fragment)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return text
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _masked_pairs(query: str) -> str:
    if "=" not in query:
        return query
    pieces = [piece.partition("=") for piece in query.split("&")]
    return "&".join(
        f"{name}={MASK}" if sep and is_secret_query_name(unquote_plus(name)) else name + sep + value
        for name, sep, value in pieces
    )


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
