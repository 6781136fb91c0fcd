"""Shared fixtures: every test gets its own response cache, and helpers to write suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    # the 253 MB local model file is assembled once per test session, not once per test
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(tmp_path_factory.getbasetemp() / "models"))
    return cache


@pytest.fixture
def fresh_index_memory():
    """Retrieval indexes shared in memory between systems start and end each test empty."""
    from harness.retrieval.store import clear_memory

    clear_memory()
    yield
    clear_memory()


def write_suite(folder: Path, suite: dict[str, Any], name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def qa_rows(n: int, split: str = "test", prefix: str = "q") -> list[dict[str, Any]]:
    """Questions `repeat the number N` whose reference is N."""
    return [
        {"id": f"{prefix}{i}", "input": f"repeat the number {i}", "reference": str(i), "split": split, "tags": ["numbers"]}
        for i in range(n)
    ]


def scripted_suite(examples: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Three systems on a scripted model that answers correctly only when prompted with 'Q:'."""
    suite: dict[str, Any] = {
        "name": "scripted",
        "dataset": {"inline": examples},
        "scripted_models": {
            "adder": {"rules": [{"match": r"Q: repeat the number (\d+)", "output": "\\1"}], "default": "no idea"},
        },
        "defaults": {"model": "scripted/adder"},
        "systems": {
            "plain": {"kind": "prompt"},
            "cued": {"kind": "prompt", "prompt": {"template": "Q: {{input}}"}},
            "echo": {"kind": "prompt", "model": "scripted/echo"},
        },
        "metrics": ["exact_match", "latency", "usage"],
    }
    suite.update(extra)
    return suite
