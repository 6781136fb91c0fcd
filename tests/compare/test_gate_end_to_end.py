"""The whole loop through the real CLI and the scripted model: run, save a baseline, gate."""

import json

import yaml

from harness.cli import main

SYSTEM_CODE = '''
import os

def answer(example):
    number = example.input.rsplit(" ", 1)[-1]
    if os.environ.get("MYSYS_BROKEN") and int(number) % 2:
        return "no idea"
    return number
'''


def write_suite(folder, n=40):
    (folder / "mysys.py").write_text(SYSTEM_CODE)
    suite = {
        "name": "e2e",
        "dataset": {"inline": [{"id": f"q{i}", "input": f"repeat the number {i}", "reference": str(i)} for i in range(n)]},
        "scripted_models": {"repeat": {"rules": [{"match": r"repeat the number (\d+)", "output": "\\1"}]}},
        "systems": {
            "prompted": {"kind": "prompt", "model": "scripted/repeat"},
            "mine": {"kind": "custom", "function": "mysys:answer"},
        },
        "metrics": ["exact_match", "latency", "usage"],
        "gate": {"alpha": 0.05, "rules": [{"metric": "exact_match", "max_drop": 0.05}, {"metric": "exact_match", "min": 0.9}]},
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def run_suite(suite, out, capsys):
    assert main(["run", str(suite), "--out", str(out), "--no-progress"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_run_baseline_gate_through_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MYSYS_BROKEN", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    suite = write_suite(tmp_path)
    first = run_suite(suite, tmp_path / "r1", capsys)
    baseline = tmp_path / "baselines" / "e2e.json"
    assert main(["baseline", "save", first, "--out", str(baseline)]) == 0
    capsys.readouterr()
    assert json.loads(baseline.read_text())["systems"]["mine"]["config"]["function"] == "mysys:answer"

    same = run_suite(suite, tmp_path / "r2", capsys)
    assert main(["gate", same, "--baseline", str(baseline)]) == 0
    assert "Eval gate passed" in capsys.readouterr().out

    monkeypatch.setenv("MYSYS_BROKEN", "1")  # a code change that breaks half the answers
    broken = run_suite(suite, tmp_path / "r3", capsys)
    assert main(["gate", broken, "--baseline", str(baseline)]) == 1
    captured = capsys.readouterr()
    assert "`mine` · `exact_match`: dropped by 0.5" in captured.out
    assert "`mine` · `exact_match`: mean 0.5 below the floor 0.9" in captured.out
    assert "`prompted`" not in captured.out.split("| Result")[0]  # the unchanged system is not named
    assert "regression: mine exact_match" in captured.err


def test_a_run_against_another_server_is_a_changed_config(tmp_path, capsys, monkeypatch):
    """The server address comes from the environment, not the suite: run.json records where the
    calls went, and the gate refuses to compare runs against different servers."""
    from harness.testing.fake_openai import FakeOpenAI

    suite = {
        "name": "hosted", "dataset": {"inline": [{"id": f"q{i}", "input": f"q{i}", "reference": "ok"} for i in range(6)]},
        "systems": {"gpt": {"kind": "prompt", "model": "openai/fake-model"}},
        "metrics": ["exact_match"], "gate": {"rules": [{"metric": "exact_match", "max_drop": 0.1}]},
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-1234")
    runs = []
    for name in ("a", "b"):
        with FakeOpenAI(lambda request: "ok") as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.url)
            assert main(["run", str(path), "--out", str(tmp_path / name), "--no-progress", "--no-report"]) == 0
            assert len(server.chat_requests()) == 6  # never answered from the other server's cache
            runs.append((tmp_path / name, server.url))
    recorded = json.loads((tmp_path / "a" / "run.json").read_text())["systems"]["gpt"]["endpoint"]
    assert recorded == {"provider": "openai", "api_base": runs[0][1], "api_version": None}
    capsys.readouterr()
    assert main(["baseline", "save", str(tmp_path / "a"), "--out", str(tmp_path / "base.json")]) == 0
    assert "sk-test-key-1234" not in (tmp_path / "base.json").read_text()
    assert main(["gate", str(tmp_path / "b"), "--baseline", str(tmp_path / "base.json")]) == 2
    assert "system 'gpt': config changed (endpoint.api_base)" in capsys.readouterr().err
