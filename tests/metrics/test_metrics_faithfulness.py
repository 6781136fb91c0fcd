"""The offline faithfulness judges: offline-v2 (default) and offline-v1 (by version), their text
pieces, statuses, details with measured agreement, and the labelled benchmark data."""

from __future__ import annotations

import asyncio
import json
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.metrics.base import MetricContext
from harness.metrics.faithfulness import Faithfulness, FaithfulnessConfig, OfflineJudge, OfflineJudgeSettings
from harness.metrics.faithfulness.agreement import agreement_for
from harness.metrics.faithfulness.claims import answer_claims, find_verdict, number_found, strip_headers
from harness.metrics.faithfulness.offline_v1 import OfflineJudgeV1, OfflineJudgeV1Settings
from harness.metrics.faithfulness.text import analyse, normalise_number, split_claims
from harness.types import Example, Response, RetrievedChunk

ROOT = Path(__file__).resolve().parents[2]
CASES_V1 = ROOT / "benchmarks" / "data" / "faithfulness_cases.jsonl"
CASES = ROOT / "benchmarks" / "data" / "faithfulness_judge_cases.jsonl"
QUESTION = "How long is the warranty on devices?"
CONTEXTS = (
    "[1] source: warranty.md\nAll devices carry a standard warranty of 2 years from the date of delivery. "
    "The warranty covers defects in materials and workmanship.",
    "[2] source: shipping.md\nParcels are shipped by courier from the warehouse in Leeds. Delivery takes 3 working days.",
)


class FakeGateway:
    """Bag-of-words hashing embeddings: deterministic, no model needed."""

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls = 0

    async def embed(self, model: str, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.fail:
            raise RuntimeError("embedding model not available")
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(".", " ").replace("?", " ").split():
                out[i, zlib.crc32(word.encode()) % 256] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def metric(gateway=None, **config) -> Faithfulness:
    context = MetricContext(suite=SimpleNamespace(), gateway=gateway or FakeGateway(), cache_dir=Path("/tmp"))  # type: ignore[arg-type]
    return Faithfulness(FaithfulnessConfig(type="faithfulness", **config), context)


def score(m: Faithfulness, text: str, contexts=CONTEXTS, question: str = QUESTION):
    retrieved = None if contexts is None else [
        RetrievedChunk(chunk_id=f"c{i}", doc_id=f"d{i}", rank=i + 1, text=t) for i, t in enumerate(contexts)
    ]  # fmt: skip
    [s] = asyncio.run(m.score(Example(id="e", input=question), Response(text=text, retrieved=retrieved)))
    assert s.status != "ok" or (s.value is not None and 0.0 <= s.value <= 1.0)
    return s


def test_headers_verdicts_short_answers_and_numbers() -> None:
    assert strip_headers("[4] source: returns.md\nYou can return it.") == "You can return it."
    assert strip_headers("Source: a.pdf\n[2] Refunds take 7 days.\ndoc_id: 9") == "Refunds take 7 days."
    assert strip_headers("The source: of the Nile is disputed.") == "The source: of the Nile is disputed."
    claim_q = "Claim: Mozart was born in Salzburg. Answer SUPPORTS, REFUTES or NOT ENOUGH INFO."
    verdict = find_verdict(claim_q, "REFUTES. He was born in Vienna.")
    assert verdict and (verdict.kind, verdict.hypothesis, verdict.rest) == ("refute", "Mozart was born in Salzburg.", "He was born in Vienna.")
    assert find_verdict(claim_q, "NOT ENOUGH INFO").kind == "unknown"
    assert find_verdict("Is the pool open on Mondays?", "No.").kind == "refute"
    assert find_verdict("What is open on Mondays?", "No idea.") is None  # not a yes/no question
    assert find_verdict("How long is it?", "Supported devices last 2 years.") is None
    [short] = answer_claims("How many moons does Jupiter have?", "95; Ganymede.")
    assert short.numbers == {"95"} and short.names == short.words == {"ganymed"}  # stemmed
    assert "Jupiter" in short.text  # the embedding sees the question too
    long = answer_claims("q", "[1] source: a.md\nIt lasts 2 years; it covers defects. Returns are free, and fast.")
    assert [c.text for c in long] == ["It lasts 2 years", "it covers defects", "Returns are free, and fast"]
    assert number_found("8849", {"8848.86"}) and not number_found("8611", {"8848.86"}) and not number_found("3", {"2"})


def test_offline_v2_scores_and_detail() -> None:
    m = metric()
    good = score(m, '{"answer": "The standard warranty lasts 2 years from delivery.", "sources": []}')
    assert good.status == "ok"
    d = good.detail
    assert d["judge"] == "offline" and d["judge_version"] == "offline-v2" and d["judge_id"].startswith("offline-v2(")
    assert d["source"] == "json:answer" and d["n_claims"] == 1 and d["faithful"] is (good.value >= d["threshold"])
    assert d["claims"][0]["evidence"].startswith("All devices carry") and set(d["claims"][0]["signals"]) >= {"numbers_missing", "relevance"}
    assert d["agreement"] == agreement_for("offline", "offline-v2") and d["agreement"]["n"] >= 100
    wrong_number = score(m, "The standard warranty lasts 5 years from delivery.")
    wrong_name = score(m, "The standard warranty lasts 2 years from delivery, says Henrik Olsen.")
    assert wrong_number.value < good.value and wrong_name.value < good.value
    assert wrong_number.detail["claims"][0]["signals"]["numbers_missing"] == 1.0
    on_topic_copy = score(m, CONTEXTS[0])
    off_topic_copy = score(m, CONTEXTS[1])  # verbatim, header and all, but not an answer
    assert off_topic_copy.value < on_topic_copy.value
    assert off_topic_copy.detail["claims"][0]["signals"]["relevance_gap"] > 0.2
    assert all("source" not in c["claim"] for c in on_topic_copy.detail["claims"])  # the header is not a claim
    for contexts in (None, [], ["   "], ["[1] source: a.md"]):
        s = score(m, "Returns are free.", contexts)
        assert (s.status, s.reason) == ("undefined", "no contexts"), contexts
    for text in ("", '{"answer": "", "sources": []}', "[3] source: x.md"):
        s = score(m, text)
        assert (s.status, s.reason) == ("undefined", "no claims"), text


def test_verdicts_are_judged_on_their_hypothesis() -> None:
    m = metric()
    question = "Claim: The warranty lasts 2 years. Answer SUPPORTS, REFUTES or NOT ENOUGH INFO."
    refuted = "Claim: The warranty lasts 5 years. Answer SUPPORTS, REFUTES or NOT ENOUGH INFO."
    supports = score(m, "SUPPORTS", question=question)
    assert supports.status == "ok" and supports.detail["verdict"]["kind"] == "support"
    assert supports.value > score(m, "REFUTES", question=question).value
    assert score(m, "REFUTES", question=refuted).value > score(m, "SUPPORTS", question=refuted).value
    assert score(m, "REFUTES", question=refuted).detail["verdict"]["conflict"] == 1.0


def test_embedding_failure_is_an_error_and_v2_needs_an_embedding_model() -> None:
    failing = score(metric(FakeGateway(fail=True)), "Returns are free.")
    assert failing.status == "error" and "embedding model not available" in failing.reason
    assert failing.detail["judge_version"] == "offline-v2" and failing.detail["agreement"]["auc"] > 0
    with pytest.raises(ConfigError, match="offline-v1"):
        metric(offline={"embedding_model": None})


def test_offline_v1_is_reachable_and_unchanged() -> None:
    gateway = FakeGateway(fail=True)
    m = metric(gateway, offline={"version": "offline-v1", "embedding_model": None})
    assert isinstance(m.offline, OfflineJudgeV1)
    lexical = score(m, "All devices carry a standard warranty of 2 years.")
    assert lexical.status == "ok" and lexical.value == 1.0 and gateway.calls == 0
    assert lexical.detail["judge_version"] == "offline-v1" and lexical.detail["agreement"]["n"] >= 100
    half = score(m, "The warranty lasts 3 years. Delivery takes 3 working days.")
    assert half.value == 0.5 and "numbers not in context: 3" in half.detail["claims"][0]["why"]
    assert [normalise_number(t) for t in ("1,200", "2.50", "09:00", "$29", "20%", "007")] == ["1200", "2.5", "9:0", "29", "20", "7"]
    unit = analyse("The Murmurlamp ML-4 costs $129 and never needs three bulbs.")
    assert unit.numbers == {"4", "129", "3"} and unit.negated and "murmurlamp" in unit.names
    assert [c.text for c in split_claims("It costs $29; it lasts 2 years, and it is red. Yes.")] == ["It costs $29", "it lasts 2 years", "it is red"]


def test_embeddings_are_cached_across_samples() -> None:
    gateway = FakeGateway()
    m = metric(gateway)
    score(m, "Returns are free.")
    score(m, "Returns are free.")
    assert gateway.calls == 1


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_labelled_cases_are_complete_and_split_by_question() -> None:
    cases = load(CASES)
    assert len(cases) >= 200 and len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        assert set(case) >= {"id", "question", "contexts", "answer", "label", "category", "split"}, case["id"]
        assert case["label"] in (0, 1) and case["split"] in ("tune", "heldout") and case["contexts"], case["id"]
    splits = {c["group"]: set() for c in cases}
    for case in cases:
        splits[case["group"]].add(case["split"])
    assert all(len(s) == 1 for s in splits.values())  # no question in both splits
    heldout = [c for c in cases if c["split"] == "heldout"]
    assert len(heldout) >= 100 and 0 < sum(c["label"] for c in heldout) < len(heldout)
    categories = {c["category"] for c in cases}
    assert {"paraphrase", "negation", "number_swap", "entity_swap", "partial_support", "verbatim_off_topic", "verdict", "header_copy"} <= categories


def test_v1_lexical_judge_still_agrees_with_its_calibration_set() -> None:
    cases = load(CASES_V1)
    judge = OfflineJudgeV1(OfflineJudgeV1Settings(embedding_model=None))

    async def run() -> list[bool]:
        return [(await judge.judge(c["answer"], c["contexts"])).value == 1.0 for c in cases]

    assert np.mean([p == bool(c["faithful"]) for p, c in zip(asyncio.run(run()), cases)]) >= 0.7


@pytest.mark.local_model
def test_offline_v2_with_minilm_reproduces_its_measured_agreement() -> None:
    """The held-out AUC in agreement.json comes from this judge and this data."""
    from harness.gateway import Gateway

    gateway = Gateway()
    try:
        asyncio.run(gateway.embed("local/all-minilm-l6-v2", ["probe"]))
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"local embedding model unavailable: {error}")

    async def embed(texts: list[str]) -> np.ndarray:
        return await gateway.embed("local/all-minilm-l6-v2", texts)

    judge = OfflineJudge(OfflineJudgeSettings(), embed)
    heldout = [c for c in load(CASES) if c["split"] == "heldout"]

    async def run() -> list[float]:
        return [(await judge.judge(c["question"], c["answer"], c["contexts"])).value or 0.0 for c in heldout]

    scores, labels = np.array(asyncio.run(run())), np.array([c["label"] for c in heldout])
    pos, neg = scores[labels == 1], scores[labels == 0]
    auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert auc == pytest.approx(agreement_for("offline", "offline-v2")["auc"], abs=0.01)
