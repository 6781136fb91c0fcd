"""Secrets never reach disk: secret-looking names, redaction, the scrubber, the log scrubber, and
`${VAR}` expansion in suites (which feeds the scrubber)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.gateway.retry import describe
from harness.secrets.names import is_secret_name
from harness.secrets.redact import redact, redact_url
from harness.secrets.scrub import forget_secrets, install_log_scrubber, known_secrets, register_secret, register_vocabulary, scrub
from harness.suite.loader import parse_suite

CANARY = "canary-5f1c0e7a9b"


@pytest.fixture(autouse=True)
def no_registered_secrets():
    forget_secrets()
    yield
    forget_secrets()


@pytest.mark.parametrize(
    "name",
    ["api_key", "apiKey", "x-api-key", "X-API-KEY", "Authorization", "OPENAI_API_KEY", "AZURE_AD_TOKEN", "hf_token",
     "client_secret", "password", "PGPASSWORD", "Ocp-Apim-Subscription-Key", "aws_secret_access_key", "api_keys",
     "GOOGLE_APPLICATION_CREDENTIALS", "auth", "cookie", "apikey", "MY_KEY", "GATEWAY_KEY", "access_key", "secret_key",
     "private_key", "HF_TOKEN", "hftoken", "clientsecret", "accessKey", "Proxy-Authorization"],
)  # fmt: skip
def test_secret_looking_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "input_tokens", "output_tokens", "key", "cache_key", "request_key", "lora_path", "api_base",
     "model", "temperature", "TOKENIZERS_PARALLELISM", "author", "keyword", "content_hash", "monkey", "hotkey", "turkey",
     "whiskey", "Donkey", "X-Mode"],
)  # fmt: skip
def test_names_that_only_look_close(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_masks_secret_keys_headers_and_url_passwords_and_copies() -> None:
    config = {
        "model": "openai/gpt-4o-mini",
        "params": {
            "max_tokens": 64,
            "extra": {
                "api_key": CANARY,
                "api_base": f"https://bot:{CANARY}@gw.example/v1?key={CANARY}&region=eu",
                "extra_headers": {"X-Route": "blue", "Authorization": f"Bearer {CANARY}"},
                "nested": [{"auth_token": CANARY}, {"top_k": 3}],
            },
        },
        "endpoint": {"url": "http://svc/answer", "headers": {"X-Custom": CANARY}},
    }
    out = redact(config)
    assert CANARY not in json.dumps(out)
    assert out["params"]["extra"]["api_key"] == "***" and out["params"]["max_tokens"] == 64
    # a plain header's setting stays (gate must see it change); a credential header never does
    assert out["params"]["extra"]["extra_headers"] == {"X-Route": "blue", "Authorization": "***"}
    assert out["endpoint"]["headers"] == {"X-Custom": "***"}  # could be a token under any name
    assert out["params"]["extra"]["api_base"] == "https://bot:***@gw.example/v1?key=***&region=eu"
    assert out["params"]["extra"]["nested"] == [{"auth_token": "***"}, {"top_k": 3}]
    assert out["model"] == "openai/gpt-4o-mini" and out["endpoint"]["url"] == "http://svc/answer"
    assert config["params"]["extra"]["api_key"] == CANARY  # a copy; the original is untouched


def test_scrub_replaces_env_keys_and_registered_values_in_any_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "sk-env-" + CANARY)
    monkeypatch.setenv("FEATURE_TOKEN", "1")  # a flag, not a secret: too short to scrub
    odd = 'quote"and\\slash-' + CANARY
    register_secret(odd)
    register_secret("abc")  # too short to be scrubbed without wrecking text
    body = json.dumps({"k": odd})  # as it appears inside a JSON line
    text = f"error: key sk-env-{CANARY} rejected; body {body} abc 1"
    cleaned = scrub(text)
    assert CANARY not in cleaned and cleaned.count("***") == 2 and cleaned.endswith("abc 1")
    assert "sk-env-" + CANARY in known_secrets() and "1" not in known_secrets()
    assert CANARY not in describe(RuntimeError("Incorrect API key provided: sk-env-" + CANARY))


def test_describe_scrubs_before_trimming_and_drops_pasted_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_KEY", "sk-" + CANARY * 3)
    message = "x" * 480 + "sk-" + CANARY * 3 + "\nTraceback (most recent call last):\n  File ..."
    text = describe(ValueError(message))
    assert "canary" not in text and "Traceback" not in text and "sk-canary" not in text


def test_log_records_are_scrubbed_before_any_handler(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    install_log_scrubber()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-log-" + CANARY)
    with caplog.at_level(logging.INFO):
        logging.getLogger("litellm").warning("POST with api_key=%s", "sk-log-" + CANARY)
        try:
            raise RuntimeError("bad key sk-log-" + CANARY)
        except RuntimeError:
            logging.getLogger("httpx").exception("request failed")
    assert CANARY not in caplog.text and "api_key=***" in caplog.text
    assert all(CANARY not in (r.exc_text or "") for r in caplog.records)


def suite_with(system: dict, **extra: object) -> dict:
    return {"name": "t", "dataset": {"inline": [{"id": "x", "input": "q", "reference": "a"}]}, "systems": {"s": system}, **extra}


def test_variables_expand_in_systems_judge_and_defaults_and_feed_the_scrubber(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "key-" + CANARY)
    monkeypatch.setenv("JUDGE_KEY", "judge-" + CANARY)
    monkeypatch.setenv("MY_SERVER", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MY_MODEL", "openai/served-model")
    raw = suite_with(
        {"kind": "prompt", "prompt": {"template": "literal ${HOME_NOT_EXPANDED} {{input}}"},
         "params": {"extra": {"api_base": "${MY_SERVER}", "extra_headers": {"Authorization": "Bearer ${MY_KEY}"},
                              "note": "costs $${DOLLARS}"}}},
        judge={"model": "openai/judge", "params": {"extra": {"api_key": "${JUDGE_KEY}"}}},
        defaults={"model": "${MY_MODEL}"},
    )  # fmt: skip
    suite = parse_suite(raw, base_dir=tmp_path)
    system = suite.systems["s"]
    assert system.model == "openai/served-model"
    assert system.params.extra["api_base"] == "http://127.0.0.1:9/v1"
    assert system.params.extra["extra_headers"]["Authorization"] == f"Bearer key-{CANARY}"
    assert system.params.extra["note"] == "costs ${DOLLARS}"
    assert system.prompt.template == "literal ${HOME_NOT_EXPANDED} {{input}}"
    assert suite.judge.params.extra["api_key"] == f"judge-{CANARY}"
    assert raw["defaults"]["model"] == "${MY_MODEL}"  # the caller's mapping is not changed
    secrets = known_secrets()
    assert {f"key-{CANARY}", f"judge-{CANARY}", f"Bearer key-{CANARY}"} <= secrets
    # addresses and model names are recorded on purpose, so they are not scrubbed away
    assert "http://127.0.0.1:9/v1" not in secrets and "openai/served-model" not in secrets


def test_an_unset_variable_is_a_suite_error_naming_it_and_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    monkeypatch.delenv("NOT_SET_BASE", raising=False)
    raw = suite_with(
        {"kind": "prompt", "model": "openai/m", "params": {"extra": {"api_key": "${NOT_SET_KEY}", "stop_list": ["${NOT_SET_BASE}"]}}},
        judge={"params": {"extra": {"api_base": "${NOT_SET_BASE}"}}},
    )
    with pytest.raises(SuiteError) as caught:
        parse_suite(raw, base_dir=tmp_path)
    text = str(caught.value)
    assert "systems.s.params.extra.api_key: set the environment variable NOT_SET_KEY" in text
    assert "systems.s.params.extra.stop_list[0]: set the environment variable NOT_SET_BASE" in text
    assert "judge.params.extra.api_base: set the environment variable NOT_SET_BASE" in text


def test_literal_keys_and_header_values_in_a_suite_are_known_secrets(tmp_path: Path) -> None:
    raw = suite_with(
        {"kind": "custom", "endpoint": {"url": "http://127.0.0.1:9/x", "headers": {"X-Api-Key": "team-" + CANARY, "X-Mode": "exact",
                                                                                  "X-Team": "blue-team-2024"}}},
        defaults={"params": {"extra": {"api_key": "literal-" + CANARY}}},
    )  # fmt: skip
    parse_suite(raw, base_dir=tmp_path)
    assert {"team-" + CANARY, "literal-" + CANARY} <= known_secrets()
    assert not {"exact", "blue-team-2024"} & known_secrets()  # ordinary headers are settings
    assert CANARY not in scrub(f"HTTP 401: bad key literal-{CANARY} for team-{CANARY}")


def environment_secrets() -> frozenset[str]:
    forget_secrets()
    return known_secrets()


SECRET_LOOKING_NAMES = ["monkey", "hotkey", "password_reset_bot", "token_f1", "cookie_cutter", "with_auth", "rag_secret", "api_key_rotation"]


def test_system_names_metric_names_and_plain_headers_are_never_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23.1: a system named like a secret made every string in its config one."""
    monkeypatch.setenv("MY_SERVER", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MY_SETTING", "fast-lane-42b")
    before = environment_secrets()
    systems = {name: {"kind": "prompt", "model": "scripted/echo", "prompt": {"template": "Q: {{input}}"},
                      "params": {"extra": {"api_base": "${MY_SERVER}", "note": "${MY_SETTING}", "extra_headers": {"X-Mode": "exact"}}}}
               for name in SECRET_LOOKING_NAMES}  # fmt: skip
    systems["with_auth_endpoint"] = {"kind": "custom", "endpoint": {"url": "http://127.0.0.1:9/answer?mode=exact", "headers": {"X-Mode": "exact"}}}
    raw = {**suite_with({}), "systems": systems, "metrics": ["exact_match", "token_f1"]}
    parse_suite(raw, base_dir=tmp_path)
    assert known_secrets() == before
    text = "WireHeron is the exact answer to the prompt; token_f1 and exact_match for monkey at http://127.0.0.1:9/v1 fast-lane-42b"
    assert scrub(text) == text


def test_weak_values_are_never_secrets() -> None:
    for weak in ["exact", "prompt", "password", "changeme", "aaaaaaaaaaaa", "abababababab", "question", "sk-test"]:
        register_secret(weak)
    assert known_secrets() == environment_secrets()
    register_secret("sk-live-7f3a9c2e1b")
    assert "sk-live-7f3a9c2e1b" in known_secrets()


def test_a_suite_word_is_never_a_secret_whichever_comes_first(tmp_path: Path) -> None:
    register_secret("exact_match_strict")  # say, an API key that happens to equal a metric name
    register_secret("judge-" + CANARY)
    register_vocabulary(["exact_match_strict", "systems"])
    assert "exact_match_strict" not in known_secrets() and "judge-" + CANARY in known_secrets()
    raw = suite_with({"kind": "prompt", "model": "scripted/echo", "params": {"extra": {"api_key": "echo_v2_strict"}}})
    raw["systems"]["echo_v2_strict"] = {"kind": "prompt", "model": "scripted/echo"}
    parse_suite(raw, base_dir=tmp_path)
    assert "echo_v2_strict" not in known_secrets()
    assert scrub("exact_match_strict echo_v2_strict") == "exact_match_strict echo_v2_strict"


def test_authorization_tokens_are_secrets_alone_too(tmp_path: Path) -> None:
    basic = base64.b64encode(b"bot:pw-" + CANARY.encode()).decode()
    raw = suite_with({"kind": "custom", "endpoint": {"url": "http://127.0.0.1:9/x", "headers": {
        "Authorization": "Token tok-" + CANARY, "Proxy-Authorization": "Basic " + basic}}})  # fmt: skip
    parse_suite(raw, base_dir=tmp_path)
    assert {"Token tok-" + CANARY, "tok-" + CANARY, basic, "pw-" + CANARY} <= known_secrets()
    assert scrub(f"unknown token tok-{CANARY}; password pw-{CANARY}") == "unknown token ***; password ***"


def test_url_passwords_and_key_query_values_are_secrets_literal_or_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_ID", "svc-" + CANARY)  # not a secret-looking name: its place makes it one
    raw = suite_with(
        {"kind": "custom", "endpoint": {"url": "http://127.0.0.1:9/x?api_key=${SERVICE_ID}&mode=exact"}},
        defaults={"params": {"extra": {"api_base": f"https://bot:pw%2F{CANARY}@gw.example/v1?sig=sig-{CANARY}"}}},
    )
    parse_suite(raw, base_dir=tmp_path)
    assert {"svc-" + CANARY, f"pw%2F{CANARY}", f"pw/{CANARY}", "sig-" + CANARY} <= known_secrets()
    assert "exact" not in known_secrets()


@pytest.mark.parametrize(
    ("url", "recorded"),
    [("http://h:8/answer?api_key=sk-1234567890&mode=exact", "http://h:8/answer?api_key=***&mode=exact"),
     ("https://u:p4ss@h/v1", "https://u:***@h/v1"),
     ("https://h/cb#access_token=abc123def456&state=x", "https://h/cb#access_token=***&state=x"),
     ("http://h/x?q=a%20b&Key=k&flag", "http://h/x?q=a%20b&Key=***&flag"),
     ("http://h/x?q=a+b&n=1", "http://h/x?q=a+b&n=1"), ("http://h/v1", "http://h/v1"), ("not a url ?x=1", "not a url ?x=1")],
)  # fmt: skip
def test_recorded_urls_lose_only_their_secrets(url: str, recorded: str) -> None:
    assert redact_url(url) == recorded


def test_judge_audit_lines_are_scrubbed(tmp_path: Path) -> None:
    from harness.metrics.faithfulness.audit import AuditTrail

    register_secret("judge-" + CANARY)
    trail = AuditTrail(tmp_path / "judge_audit.jsonl")
    trail.record(prompt="grade this", reply=f"error from provider: key judge-{CANARY} invalid", ok=False)
    line = json.loads((tmp_path / "judge_audit.jsonl").read_text())
    assert line["reply"] == "error from provider: key *** invalid"


def test_checking_models_registers_the_keys_litellm_will_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.gateway import Gateway
    from harness.gateway.providers import load_litellm

    litellm = load_litellm()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(litellm, "api_key", "plain-" + CANARY)  # set in code, under no variable name
    Gateway().check_models({"openai/gpt-4o-mini"})
    assert "plain-" + CANARY in known_secrets()
