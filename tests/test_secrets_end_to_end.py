"""A real `harness run` against an OpenAI-compatible server on 127.0.0.1 with canary secrets planted
everywhere a key can be (the environment, `params.extra.api_key`, a `${VAR}` in headers and params,
a custom endpoint's header, error bodies that echo the key): the bytes written under the run
directory, the cache folder, the baseline and the captured output hold none of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import write_suite

from harness.testing.fake_openai import FakeOpenAI, Reply

CANARIES = {
    "env": "sk-canary-env-7d1e4a2b9c",
    "param": "sk-canary-param-3f8b6e0d1a",
    "var": "sk-canary-var-92c4b7e5f0",
    "judge": "sk-canary-judge-5a0e9d3c7b",
    "header": "canary-header-c1f7a9e2d4",
}


def echo_credentials(request: Any, n: int) -> Reply | str:
    """Answers the number in the question; questions about keys get the caller's credentials back."""
    body = request.body or {}
    text = request.prompt if "messages" in body else str(body.get("input", ""))
    seen = f"auth={request.headers.get('authorization')} x-api-key={request.headers.get('x-api-key')}"
    if "echo 401" in text:
        return Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {seen}", "type": "invalid_request_error"}})
    if "echo 200" in text:
        return Reply(body={"error": {"message": f"key rejected: {seen}"}})
    if "messages" not in body:  # the custom endpoint's JSON
        return Reply(body={"answer": text.split()[-1]})
    return text.split()[-1]


def suite(url: str) -> dict[str, Any]:
    rows = [{"id": f"q{i}", "input": f"repeat the number {i}", "reference": str(i)} for i in range(3)]
    rows += [{"id": "e401", "input": "please echo 401", "reference": "x"}, {"id": "e200", "input": "please echo 200", "reference": "x"}]
    return {
        "name": "canary",
        "dataset": {"inline": rows},
        "defaults": {"model": "openai/fake-model"},
        "systems": {
            "env_key": {"kind": "prompt"},
            "param_key": {"kind": "prompt", "params": {"extra": {"api_key": CANARIES["param"]}}},
            "var_key": {"kind": "prompt", "params": {"seed": 1, "extra": {"api_key": "${MY_KEY}", "extra_headers": {"X-Api-Key": "${MY_KEY}"}}}},
            "endpoint": {"kind": "custom", "endpoint": {"url": url + "/chat/completions", "headers": {"Authorization": "Bearer ${HEADER_KEY}"}}},
        },
        "judge": {"model": "openai/fake-judge", "params": {"extra": {"api_key": "${JUDGE_KEY}"}}},
        "metrics": ["exact_match"],
        "settings": {"retry": {"max_attempts": 2, "initial_delay_s": 0.001}, "max_error_rate": 1.0},  # errors by design
    }


def harness(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], check=False, capture_output=True, text=True, cwd=cwd, env={**os.environ, **env}, timeout=300
    )


def hits(folder: Path, texts: dict[str, str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(folder)}: {name}" for name, value in CANARIES.items() if value.encode() in data]
    for label, text in texts.items():
        found += [f"{label}: {name}" for name, value in CANARIES.items() if value in text]
    return found


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("canary")
    cache = folder / "cache"
    with FakeOpenAI(echo_credentials) as server:
        env = {
            "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": CANARIES["env"], "MY_KEY": CANARIES["var"],
            "JUDGE_KEY": CANARIES["judge"], "HEADER_KEY": CANARIES["header"], "HARNESS_CACHE_DIR": str(cache),
            "LITELLM_LOG": "DEBUG",  # the noisiest litellm gets: its log lines must be scrubbed too
        }  # fmt: skip
        path = write_suite(folder, suite(server.url))
        done = harness("run", str(path), "--out", "run", "--no-progress", cwd=folder, env=env)
        saved = harness("baseline", "save", "run", "--out", "baseline.json", cwd=folder, env=env)
        requests = list(server.requests)
    return {"folder": folder, "cache": cache, "run": done, "baseline": saved, "requests": requests}


def test_keys_reach_the_server_expanded(canary_run: dict[str, Any]) -> None:
    assert canary_run["run"].returncode == 0, canary_run["run"].stderr
    seen = {(r.headers.get("authorization"), r.headers.get("x-api-key")) for r in canary_run["requests"]}
    assert (f"Bearer {CANARIES['env']}", None) in seen
    assert (f"Bearer {CANARIES['param']}", None) in seen
    assert (f"Bearer {CANARIES['var']}", CANARIES["var"]) in seen  # not the literal "${MY_KEY}"
    assert (f"Bearer {CANARIES['header']}", None) in seen
    assert not any("${" in str(value) for r in canary_run["requests"] for value in r.headers.values())


def test_echoed_keys_become_scrubbed_errors(canary_run: dict[str, Any]) -> None:
    rows = [json.loads(line) for line in (canary_run["folder"] / "run" / "samples.jsonl").read_text().splitlines()]
    errors = {(r["system"], r["example"]["id"]): r["response"]["error"] for r in rows if r["response"]["error"]}
    assert set(errors) == {(s, e) for s in ("env_key", "param_key", "var_key", "endpoint") for e in ("e401", "e200")}
    assert "Incorrect API key provided: auth=Bearer *** x-api-key=None" in errors["env_key", "e401"]
    assert "auth=Bearer *** x-api-key=***" in errors["var_key", "e200"]
    assert "HTTP 401" in errors["endpoint", "e401"] and "auth=*** x-api-key=None" in errors["endpoint", "e401"]
    assert all(r["scores"]["exact_match"]["status"] == "error" for r in rows if r["response"]["error"])


def test_no_canary_in_samples_cache_audit_or_output(canary_run: dict[str, Any]) -> None:
    folder = canary_run["folder"]
    run = canary_run["run"]
    written = [
        f"{name}: {key}"
        for name in ("samples.jsonl", "summary.csv", "judge_audit.jsonl")
        if (folder / "run" / name).exists()
        for key, value in CANARIES.items()
        if value in (folder / "run" / name).read_text()
    ]
    written += hits(canary_run["cache"], {"stdout": run.stdout, "stderr": run.stderr})
    assert written == []


def test_no_canary_anywhere_under_the_run_dir_or_in_the_baseline(canary_run: dict[str, Any]) -> None:
    folder = canary_run["folder"]
    assert canary_run["baseline"].returncode == 0, canary_run["baseline"].stderr
    assert hits(folder / "run", {"baseline": (folder / "baseline.json").read_text()}) == []
