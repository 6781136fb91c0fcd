"""Redaction of structured config written to disk (run.json, baselines, reports): values of
secret-looking keys and credential headers become "***", URLs lose their secrets, and every
other string is scrubbed of known secret values (harness.secrets.scrub)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from harness.secrets.names import HEADER_MAPS, MASK, is_secret_name, is_secret_query_name, is_strong_secret
from harness.secrets.scrub import scrub


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
