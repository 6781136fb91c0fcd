"""Which names hold credentials (`api_key`, `X-Api-Key`, `HF_TOKEN`) and which values are strong
enough to be one: the rules every other part of harness.secrets goes by."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

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
