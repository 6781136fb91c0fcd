"""Checkers for every standard JSON Schema `format`, for `format: assert`.

Written against the RFCs each format names (3339, 5321/6531, 1123/5890, 3986/3987, 4291, 6570,
6901, 4122) so results do not depend on which optional libraries a machine happens to have; the
two declared dependencies do what the standard library cannot: `idna` (IDNA2008 rules for
`idn-hostname`) and `regex` (Unicode properties in ECMA-262 `regex`). A non-string is always
valid (formats only constrain strings).
"""

from __future__ import annotations

import ipaddress
import re
from calendar import monthrange
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from harness.metrics.ecma_regex import EcmaRegexError, to_python

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
_DUR_TIME = r"T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)"
_DUR_DATE = r"(?:[0-9]+D|[0-9]+M(?:[0-9]+D)?|[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?)"
_DURATION = re.compile(rf"P(?:{_DUR_DATE}(?:{_DUR_TIME})?|{_DUR_TIME}|[0-9]+W)")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_JSON_POINTER = re.compile(r"(?:/(?:[^~/]|~[01])*)*", re.S)
_RELATIVE_POINTER = re.compile(r"(?:0|[1-9][0-9]*)(?:#|(?:/(?:[^~/]|~[01])*)*)", re.S)
_IPV4 = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_ATEXT_UTF8 = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]"  # RFC 6531: UTF8-non-ascii too
_QUOTED_UTF8 = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\U0010ffff]|\\[\x20-\x7e])*"'
_UCS = (r"\xa0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
        r"\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd"
        r"\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd"
        r"\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd")
_PRIVATE = r"\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_URI_PARTS = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)
_URI_TEMPLATE = re.compile(
    r"(?:[^\x00-\x20\"'%<>\\^`{|}\x7f]|%[0-9A-Fa-f]{2}"
    r"|\{[+#./;?&=,!@|]?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::[1-9][0-9]{0,3}|\*)?"
    r"(?:,(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::[1-9][0-9]{0,3}|\*)?)*\})*",
    re.S,
)


def is_date(text: str) -> bool:
    found = _DATE.fullmatch(text)
    if not found:
        return False
    year, month, day = map(int, found.groups())
    return 1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]


def is_time(text: str) -> bool:
    """RFC 3339 full-time, an offset required; a leap second only at 23:59 UTC."""
    found = _TIME.fullmatch(text)
    if not found:
        return False
    hour, minute, second = int(found[1]), int(found[2]), int(found[3])
    off_hour, off_minute = (int(found[6]), int(found[7])) if found[5] else (0, 0)
    if hour > 23 or minute > 59 or second > 60 or off_hour > 23 or off_minute > 59:
        return False
    if second == 60:
        sign = -1 if found[5] == "-" else 1
        utc = (hour * 60 + minute - sign * (off_hour * 60 + off_minute)) % (24 * 60)
        return utc == 23 * 60 + 59
    return True


def is_date_time(text: str) -> bool:
    date, sep, time = text.partition("T") if "T" in text else text.partition("t")
    return bool(sep) and is_date(date) and is_time(time)


def is_duration(text: str) -> bool:
    return _DURATION.fullmatch(text) is not None


def is_ipv4(text: str) -> bool:
    return _IPV4.fullmatch(text) is not None


def is_ipv6(text: str) -> bool:
    if not re.fullmatch(r"[0-9A-Fa-f:.]+", text):
        return False
    if "." in text and not is_ipv4(text.rsplit(":", 1)[-1]):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_hostname(text: str) -> bool:
    """RFC 1123: dot-separated labels of letters, digits and inner hyphens; an `xn--` label must be
    valid Punycode (an A-label)."""
    host = text[:-1] if text.endswith(".") else text
    if not host or len(host) > 253:
        return False
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return all(not label.lower().startswith("xn--") or _is_a_label(label) for label in labels)


def _is_a_label(label: str) -> bool:
    import idna

    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def is_idn_hostname(text: str) -> bool:
    """IDNA2008 (RFC 5890-5893): label rules, CONTEXTJ/CONTEXTO and bidi, any IDNA dot."""
    import idna

    if not text or re.fullmatch(r"[.\u3002\uff0e\uff61]", text):
        return False
    try:
        encoded = idna.encode(text, uts46=False)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return len(encoded.rstrip(b".")) <= 253


def _is_local_part(local: str, international: bool) -> bool:
    if len(local.encode("utf-8")) > 64:
        return False
    atext = _ATEXT_UTF8 if international else _ATEXT
    quoted = _QUOTED_UTF8 if international else _QUOTED
    return re.fullmatch(rf"{atext}+(?:\.{atext}+)*|{quoted}", local, re.S) is not None


def _is_mail_domain(domain: str, international: bool) -> bool:
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        return is_ipv6(literal[5:]) if literal[:5].lower() == "ipv6:" else is_ipv4(literal)
    return is_idn_hostname(domain) if international else is_hostname(domain)


def is_email(text: str, international: bool = False) -> bool:
    """RFC 5321 Mailbox (RFC 6531 for `idn-email`): dot-atom or quoted local part, a host name
    or an address literal."""
    local, at, domain = text.rpartition("@")
    return bool(at) and _is_local_part(local, international) and _is_mail_domain(domain, international)


@lru_cache(maxsize=2)
def _uri_classes(iri: bool) -> dict[str, re.Pattern[str]]:
    extra = _UCS if iri else ""
    unreserved, sub_delims, pct = f"A-Za-z0-9\\-._~{extra}", "!$&'()*+,;=", "%[0-9A-Fa-f]{2}"
    pchar = f"(?:[{unreserved}{sub_delims}:@]|{pct})"
    query = f"(?:{pchar}|[/?{_PRIVATE if iri else ''}])*"
    return {
        "scheme": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*"),
        "userinfo": re.compile(f"(?:[{unreserved}{sub_delims}:]|{pct})*"),
        "reg_name": re.compile(f"(?:[{unreserved}{sub_delims}]|{pct})*"),
        "path": re.compile(f"(?:{pchar}|/)*"),
        "query": re.compile(query),
        "fragment": re.compile(f"(?:{pchar}|[/?])*"),
    }


def is_uri_reference(text: str, iri: bool = False, absolute: bool = False) -> bool:
    """RFC 3986 URI-reference (RFC 3987 IRI-reference when `iri`); `absolute` wants a scheme."""
    classes = _uri_classes(iri)
    scheme, authority, path, query, fragment = _URI_PARTS.fullmatch(text).groups()  # type: ignore[union-attr]
    if scheme is not None and not classes["scheme"].fullmatch(scheme):
        return False
    if absolute and scheme is None:
        return False
    if scheme is None and ":" in path.split("/", 1)[0]:
        return False
    if authority is not None and not _is_authority(authority, classes):
        return False
    if not classes["path"].fullmatch(path):
        return False
    if query is not None and not classes["query"].fullmatch(query):
        return False
    return fragment is None or classes["fragment"].fullmatch(fragment) is not None


def _is_authority(authority: str, classes: dict[str, re.Pattern[str]]) -> bool:
    userinfo, at, hostport = authority.rpartition("@")
    if at and not classes["userinfo"].fullmatch(userinfo):
        return False
    if hostport.startswith("["):
        host, bracket, port = hostport[1:].partition("]")
        if not bracket or not (is_ipv6(host) or re.fullmatch(r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+", host)):
            return False
        if port and not port.startswith(":"):
            return False
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
        if not classes["reg_name"].fullmatch(host):
            return False
    return re.fullmatch(r"[0-9]*", port) is not None


def _is_ecma_regex(pattern: str) -> bool:
    """The `regex` format: valid ECMA-262 (Unicode mode)."""
    try:
        to_python(pattern, strict=True)
    except EcmaRegexError:
        return False
    return True


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "date": is_date,
    "time": is_time,
    "duration": is_duration,
    "email": is_email,
    "idn-email": lambda text: is_email(text, international=True),
    "hostname": is_hostname,
    "idn-hostname": is_idn_hostname,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "uri": lambda text: is_uri_reference(text, absolute=True),
    "uri-reference": is_uri_reference,
    "iri": lambda text: is_uri_reference(text, iri=True, absolute=True),
    "iri-reference": lambda text: is_uri_reference(text, iri=True),
    "uuid": lambda text: _UUID.fullmatch(text) is not None,
    "uri-template": lambda text: _URI_TEMPLATE.fullmatch(text) is not None,
    "json-pointer": lambda text: _JSON_POINTER.fullmatch(text) is not None,
    "relative-json-pointer": lambda text: _RELATIVE_POINTER.fullmatch(text) is not None,
    "regex": _is_ecma_regex,
}


def format_checker() -> Any:
    """A jsonschema FormatChecker that asserts every standard format (unknown ones pass)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(_strings_only(check))
    return checker


def _strings_only(check: Callable[[str], bool]) -> Callable[[Any], bool]:
    return lambda value: not isinstance(value, str) or check(value)
