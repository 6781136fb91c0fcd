"""Where the scrubber's secrets come from: the values a suite or an endpoint holds as credentials.

The scrubber (harness.secrets) replaces every occurrence of what it knows, so only values from a
secret source are registered: values under secret-looking keys (`api_key`, `auth_token`), values
of secret-looking headers (`Authorization`, `X-Api-Key`, `Cookie`) with the token after an auth
scheme (`Token X`: a server may echo only X), and URL passwords and key-like query values. A
system's or metric's name is never a key here (`monkey`, `token_f1`, `with_auth` name things),
and an ordinary header (`X-Mode: exact`) is no credential. A suite's own words (keys, names,
kinds, models) are registered as vocabulary, which is never scrubbed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from harness.secrets.names import HEADER_MAPS, is_secret_name, is_secret_query_name
from harness.secrets.scrub import register_secret, register_vocabulary

# config fields whose string values name things (a kind, a metric, a model), not settings
NAME_FIELDS = frozenset({"kind", "type", "name", "names", "model", "metric", "metrics", "use", "retriever", "provider"})


def register_config_secrets(config: Any) -> None:
    """Register the credentials one config holds (a system's, the judge's, the defaults)."""
    for value in config_secrets(config):
        register_secret(value)


def config_secrets(obj: Any, secret: bool = False) -> list[str]:
    """Values under secret-looking keys, secret header values and URL secrets anywhere in `obj`."""
    if isinstance(obj, str):
        found = url_secrets(obj) if "://" in obj else []
        return found + credential_parts(obj) if secret else found
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if str(key).lower() in HEADER_MAPS and isinstance(value, dict):
                found += header_secrets(value)
            else:
                found += config_secrets(value, secret or is_secret_name(str(key)))
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found += config_secrets(value, secret)
    return found


def header_secrets(headers: dict[Any, Any]) -> list[str]:
    """The values of credential headers (`Authorization`, `X-Api-Key`, ...), tokens included."""
    found = []
    for name, value in headers.items():
        if isinstance(value, str):
            found += url_secrets(value) if "://" in value else []
            found += credential_parts(value) if is_secret_name(str(name)) else []
    return found


def credential_parts(value: str) -> list[str]:
    """A credential, and for `<scheme> <token>` (`Bearer x`, `Token x`, `Basic x`) the token and a
    Basic password as well: a server's error may echo any one of them."""
    value = value.strip()
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if not token or not scheme.isalpha() or " " in token:
        return [value]
    parts = [value, token]
    if scheme.lower() == "basic":
        try:
            parts.append(base64.b64decode(token, validate=True).decode().partition(":")[2])
        except (binascii.Error, UnicodeDecodeError):
            pass
    return parts


def url_secrets(text: str) -> list[str]:
    """The password and the secret query (or fragment) values of a URL, as written and decoded."""
    try:
        parts = urlsplit(text.strip())
        password = parts.password
    except ValueError:
        return []
    found = [password, unquote_plus(password)] if password else []
    for piece in f"{parts.query}&{parts.fragment}".split("&"):
        name, _, value = piece.partition("=")
        if value and is_secret_query_name(unquote_plus(name)):
            found += [value, unquote_plus(value)]
    return found


def suite_vocabulary(raw: dict[str, Any]) -> set[str]:
    """A suite's own words: every key (system names, header names included) and the names given
    as values (kinds, metric types and names, models); the dataset's rows are left out."""
    words: set[str] = set()

    def walk(obj: Any, key: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                words.add(str(k))
                walk(v, str(k))
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)
        elif isinstance(obj, str) and (key in NAME_FIELDS or key.endswith("_model")):
            words.add(obj)

    walk({k: v for k, v in raw.items() if k != "dataset"}, "")
    return words


def register_suite_vocabulary(raw: dict[str, Any], *names: Iterable[str]) -> None:
    """Make a suite's words (and `names`: known kinds, metric types) never count as secrets."""
    register_vocabulary(suite_vocabulary(raw).union(*names))
