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
from tests.conftest import write_suite

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


# --- issue 23: a custom endpoint's URL key and echoed token; names that only look secret -----------

URL_KEY = "sk-live-4b9e2d7a1c8f"
TOKEN = "tok-live-93a7c1e5d2"
SECRET_LOOKING = ["monkey", "hotkey", "token_f1", "password_reset_bot", "cookie_cutter", "with_auth", "rag_secret"]


class EndpointServer:
    """A `kind: custom` endpoint on 127.0.0.1: answers "WireHeron is the exact answer <last word>";
    an input with "echo" gets a 401 echoing only the token after the Authorization scheme and the
    URL's api_key, as servers do."""

    def __enter__(self) -> "EndpointServer":
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                seen.append((self.path, dict(self.headers)))
                text = str(body.get("input", ""))
                if "echo" in text:
                    token = (self.headers.get("authorization") or "").partition(" ")[2]
                    key = parse_qs(urlsplit(self.path).query).get("api_key", [""])[0]
                    status, reply = 401, {"error": f"unknown token {token} for key {key}"}
                else:
                    status, reply = 200, {"answer": f"WireHeron is the exact answer {text.split()[-1]}"}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_in_process(folder: Path, suite: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    from harness.cli import main

    monkeypatch.setenv("HARNESS_DB", str(folder / "store" / "runs.db"))
    (folder / "store").mkdir()
    path = write_suite(folder, suite)
    assert main(["run", str(path), "--out", str(folder / "run"), "--no-progress"]) == 0
    return folder / "run"


def read_samples(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


def test_a_custom_endpoint_url_key_and_an_echoed_token_reach_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 23.2: `?api_key=` in an endpoint URL was written verbatim as every sample's
    response.model (and so into report.html); a server echoing only the token of
    `Authorization: Token X` left X in the error reasons."""
    rows = [{"id": f"q{i}", "input": f"repeat the number {i}", "reference": f"WireHeron is the exact answer {i}"} for i in range(2)]
    with EndpointServer() as server:
        url = f"{server.url}/answer?api_key={URL_KEY}&mode=exact"
        suite = {
            "name": "url-key", "dataset": {"inline": [*rows, {"id": "e1", "input": "please echo", "reference": "x"}]},
            "systems": {"svc": {"kind": "custom", "endpoint": {"url": url, "headers": {"Authorization": f"Token {TOKEN}", "X-Mode": "exact"}}}},
            "metrics": ["exact_match"], "settings": {"retry": {"max_attempts": 1}, "max_error_rate": 1.0},
        }  # fmt: skip
        run = run_in_process(tmp_path, suite, monkeypatch)
    assert {(path, headers.get("Authorization")) for path, headers in server.seen} == {(f"/answer?api_key={URL_KEY}&mode=exact", f"Token {TOKEN}")}
    samples = {row["example"]["id"]: row["response"] for row in read_samples(run)}
    assert {samples[e]["model"] for e in ("q0", "q1")} == {f"{server.url}/answer?api_key=***&mode=exact"}
    assert "unknown token *** for key ***" in samples["e1"]["error"]
    assert samples["q1"]["text"] == "WireHeron is the exact answer 1"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "suite.yaml"]
    assert {"samples.jsonl", "run.json", "report.md", "report.html", "runs.db"} <= {p.name for p in written}
    output = capsys.readouterr()
    leaks = [str(p) for p in written for secret in (URL_KEY, TOKEN) if secret.encode() in p.read_bytes()]
    leaks += [name for name, text in (("stdout", output.out), ("stderr", output.err)) for s in (URL_KEY, TOKEN) if s in text]
    assert leaks == []


def test_names_that_look_secret_and_plain_headers_leave_the_run_record_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23.1: systems named `monkey`, `token_f1`, ... and a header `X-Mode: exact` made the
    scrubber rewrite `kind: prompt`, model outputs ("WireHeron is the *** answer") and metric
    names ("***_match") across the whole record."""
    rows = [{"id": f"q{i}", "input": f"repeat the number {i}", "reference": f"WireHeron is the exact answer {i}"} for i in range(3)]
    with EndpointServer() as server:
        systems: dict[str, Any] = {name: {"kind": "prompt", "params": {"extra": {"note": "exact prompt"}}} for name in SECRET_LOOKING}
        systems["with_auth_endpoint"] = {"kind": "custom", "endpoint": {"url": f"{server.url}/answer", "headers": {"X-Mode": "exact"}}}
        suite = {
            "name": "names", "dataset": {"inline": rows},
            "scripted_models": {"heron": {"rules": [{"match": r"repeat the number (\d+)", "output": "WireHeron is the exact answer \\1"}]}},
            "defaults": {"model": "scripted/heron"}, "systems": systems, "metrics": ["exact_match", "token_f1"],
        }  # fmt: skip
        run = run_in_process(tmp_path, suite, monkeypatch)
    samples = read_samples(run)
    assert len(samples) == 3 * len(systems)
    assert all(s["response"]["text"] == s["example"]["reference"] for s in samples)
    assert all(set(s["scores"]) == {"exact_match", "token_f1"} and s["scores"]["exact_match"]["value"] == 1.0 for s in samples)
    header = json.loads((run / "run.json").read_text())
    assert {name: header["systems"][name]["kind"] for name in SECRET_LOOKING} == dict.fromkeys(SECRET_LOOKING, "prompt")
    assert header["systems"]["with_auth_endpoint"]["endpoint"]["headers"] == {"X-Mode": "exact"}
    assert [m["type"] for m in header["metrics"]] == ["exact_match", "token_f1"]
    assert [p.name for p in run.rglob("*") if p.is_file() and b"***" in p.read_bytes()] == []
