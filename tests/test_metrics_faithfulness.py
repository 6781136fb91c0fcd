"""The offline faithfulness judge: claims, numbers, names, negation, statuses, and agreement with
the hand-labelled cases."""

from __future__ import annotations

import asyncio
import json
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from harness.metrics.base import MetricContext
from harness.metrics.faithfulness import Faithfulness, FaithfulnessConfig, OfflineJudge, OfflineJudgeSettings
from harness.metrics.faithfulness.text import analyse, normalise_number, split_claims
from harness.types import Example, Response, RetrievedChunk

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "benchmarks" / "data" / "faithfulness_cases.jsonl"
CONTEXT = "All devices carry a standard warranty of 2 years from the date of delivery. Returns are free."


class FakeGateway:
    """Bag-of-words hashing embeddings: deterministic, no model needed."""

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls = 0

    async def embed(self, model: str, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.fail:
            raise RuntimeError("embedding model not available")
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % 64] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def metric(gateway=None, **config) -> Faithfulness:
    context = MetricContext(suite=SimpleNamespace(), gateway=gateway or FakeGateway(), cache_dir=Path("/tmp"))  # type: ignore[arg-type]
    return Faithfulness(FaithfulnessConfig(type="faithfulness", **config), context)


def score(m: Faithfulness, text: str, contexts: list[str] | None = (CONTEXT,)):
    retrieved = None if contexts is None else [
        RetrievedChunk(chunk_id=f"c{i}", doc_id=f"d{i}", rank=i + 1, text=t) for i, t in enumerate(contexts)
    ]  # fmt: skip
    [s] = asyncio.run(m.score(Example(id="e", input="q"), Response(text=text, retrieved=retrieved)))
    assert s.status != "ok" or (s.value is not None and 0.0 <= s.value <= 1.0)
    return s


def test_text_pieces() -> None:
    assert [normalise_number(t) for t in ("1,200", "2.50", "09:00", "$29", "20%", "007")] == ["1200", "2.5", "9:0", "29", "20", "7"]
    unit = analyse("The Murmurlamp ML-4 costs $129 and never needs three bulbs.")
    assert unit.numbers == {"4", "129", "3"} and unit.negated and "murmurlamp" in unit.names
    claims = [c.text for c in split_claims("It costs $29; it lasts 2 years, and it is red. Yes.")]
    assert claims == ["It costs $29", "it lasts 2 years", "it is red"]


def test_offline_judge_statuses_and_detail() -> None:
    m = metric()
    good = score(m, '{"answer": "The standard warranty lasts 2 years from delivery.", "sources": []}')
    assert good.status == "ok" and good.value == 1.0
    d = good.detail
    assert d["judge"] == "offline" and d["judge_version"] == "offline-v1" and d["judge_id"].startswith("offline-v1(")
    assert d["source"] == "json:answer" and d["n_claims"] == 1 and d["claims"][0]["evidence"]
    half = score(m, "The warranty lasts 3 years. Returns are free.")
    assert half.value == 0.5 and "numbers not in context: 3" in half.detail["claims"][0]["why"]
    assert score(m, "Returns are not free.").value == 0.0  # negated claim, context not negated
    assert score(m, "Returns are free, says Henrik.").value == 0.5  # unknown name
    for contexts in (None, [], ["   "]):
        s = score(m, "Returns are free.", contexts)
        assert (s.status, s.reason) == ("undefined", "no contexts")
    for text in ("", "Yes.", '{"answer": "", "sources": []}'):
        s = score(m, text)
        assert (s.status, s.reason) == ("undefined", "no claims"), text


def test_embedding_failure_is_an_error_and_lexical_only_needs_no_model() -> None:
    failing = score(metric(FakeGateway(fail=True)), "Returns are free.")
    assert failing.status == "error" and "embedding model not available" in failing.reason
    gateway = FakeGateway(fail=True)
    lexical = score(metric(gateway, offline={"embedding_model": None}), "Returns are free.")
    assert lexical.status == "ok" and lexical.value == 1.0 and gateway.calls == 0


def test_embeddings_are_cached_across_samples() -> None:
    gateway = FakeGateway()
    m = metric(gateway)
    score(m, "Returns are free.")
    score(m, "Returns are free.")
    assert gateway.calls == 1


def load_cases() -> list[dict]:
    if not CASES.exists():
        pytest.skip("benchmarks/data/faithfulness_cases.jsonl not present")
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def agreement(judge: OfflineJudge, cases: list[dict]) -> float:
    async def run() -> list[bool]:
        return [(await judge.judge(c["answer"], c["contexts"])).value == 1.0 for c in cases]

    predicted = asyncio.run(run())
    return float(np.mean([p == bool(c["faithful"]) for p, c in zip(predicted, cases)]))


def test_lexical_judge_agrees_with_labels_and_catches_wrong_numbers() -> None:
    cases = load_cases()
    assert len(cases) >= 48
    judge = OfflineJudge(OfflineJudgeSettings(embedding_model=None))
    assert agreement(judge, cases) >= 0.7
    numbers = [c for c in cases if "Wrong number" in c.get("note", "") or "Wrong year" in c.get("note", "")]
    assert numbers and agreement(judge, numbers) == 1.0


@pytest.mark.local_model
def test_calibrated_judge_with_minilm_agrees_with_labels() -> None:
    """The calibrated defaults with the real embedding model (through the gateway)."""
    cases = load_cases()
    from harness.gateway import Gateway

    gateway = Gateway()
    try:
        asyncio.run(gateway.embed("local/all-minilm-l6-v2", ["probe"]))
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"local embedding model unavailable: {error}")

    async def embed(texts: list[str]) -> np.ndarray:
        return await gateway.embed("local/all-minilm-l6-v2", texts)

    assert agreement(OfflineJudge(OfflineJudgeSettings(), embed), cases) >= 0.85
