"""Issue 23: the scrubber is the identity when no secret occurs.

Random suites (system names such as `monkey`, `token_f1`, `with_auth`; kinds; metric names; plain
headers; settings under plain keys) go through the real suite loader; then random model outputs,
names and keys pass `scrub` unchanged, and `redact` changes nothing but header values that could
be tokens.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.secrets.names import MASK, is_secret_name, is_strong_secret
from harness.secrets.redact import redact
from harness.secrets.scrub import forget_secrets, known_secrets, scrub
from harness.suite.loader import parse_suite

WORDS = ["monkey", "hotkey", "turkey", "token_f1", "with_auth", "rag_secret", "password_reset_bot", "cookie_cutter",
         "api", "key", "token", "secret", "auth", "bearer", "prompt", "exact", "exact_match", "plain", "cued", "WireHeron",
         "answer", "custom", "scripted", "heron", "mode", "fast", "blue", "v2", "42"]  # fmt: skip
METRICS = ["exact_match", "token_f1", "latency", "usage", "json_valid"]
PLAIN_HEADERS = ["X-Mode", "X-Route", "X-Team", "Accept", "Content-Type", "User-Agent", "X-Request-Source", "X-Monkey"]

word = st.sampled_from(WORDS)
name = st.one_of(word, st.lists(word, min_size=2, max_size=3).map("_".join), st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True))
value = st.one_of(word, st.lists(word, min_size=1, max_size=4).map(" ".join), st.text(st.characters(blacklist_characters="{}%#$", blacklist_categories=["Cs"]), max_size=30))
plain_key = name.filter(lambda k: not is_secret_name(k))
headers = st.dictionaries(st.sampled_from(PLAIN_HEADERS), st.one_of(word, st.lists(word, min_size=2, max_size=3).map("-".join)), max_size=3)


@st.composite
def system(draw: st.DrawFn) -> dict:
    if draw(st.booleans()):
        url = "http://127.0.0.1:9/" + draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True)) + draw(st.sampled_from(["", "?mode=exact", "?n=1&q=a+b"]))
        return {"kind": "custom", "endpoint": {"url": url, "headers": draw(headers)}}
    extra = draw(st.dictionaries(plain_key, value, max_size=3)) | {"extra_headers": draw(headers)}
    return {"kind": "prompt", "model": "scripted/" + draw(name), "prompt": {"template": draw(value) + " {{input}}"}, "params": {"extra": extra}}


suites = st.fixed_dictionaries({
    "name": name,
    "dataset": st.just({"inline": [{"id": "x", "input": "q", "reference": "a"}]}),
    "systems": st.dictionaries(name, system(), min_size=1, max_size=5),
    "metrics": st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True),
    "judge": st.fixed_dictionaries({"model": name.map(lambda n: "openai/" + n)}),
})  # fmt: skip
outputs = st.lists(st.one_of(value, name, st.sampled_from(["kind: prompt", "WireHeron is the exact answer", "exact_match"])), max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=suites, texts=st.lists(outputs, min_size=1, max_size=4))
def test_without_secrets_scrub_and_redact_change_no_output_name_or_key(raw: dict, texts: list[str]) -> None:
    forget_secrets()
    environment = known_secrets()  # whatever secret-named variables this machine has
    suite = parse_suite(raw, base_dir=Path(__file__).parent)
    assert known_secrets() == environment  # nothing in the suite was a secret
    words = [*raw["systems"], *raw["metrics"], *suite.systems, *texts]
    words += [str(v) for config in raw["systems"].values() for v in _strings(config)]
    assume(not any(secret in text for secret in environment for text in words))
    for text in words:
        assert scrub(text) == text
    for config in raw["systems"].values():
        assert redact(config) == _expected_redaction(config)


def _strings(obj: object) -> list[object]:
    if isinstance(obj, dict):
        return [*obj, *(s for v in obj.values() for s in _strings(v))]
    return [obj]


def _expected_redaction(obj: object, key: str = "") -> object:
    """The config itself, but header values that could be tokens masked."""
    if isinstance(obj, dict):
        if key in ("headers", "extra_headers"):
            return {k: MASK if is_strong_secret(v.strip()) else v for k, v in obj.items()}
        return {k: _expected_redaction(v, k) for k, v in obj.items()}
    return obj

