"""The offline faithfulness judge (offline-v2): no LLM; evidence signals combined by a logistic
model fitted on hand-labelled cases.

For each claim of the answer (claims.py) against the context units (sentences, pairs of
sentences, passages; headers removed) it measures: content-word recall of the best unit, the
best embedding cosine, numbers and names not found anywhere in the contexts or the question,
and whether the claim's negation disagrees with its best unit (content words found nowhere are
reported too, but the model does not use them). For the answer it measures whether it addresses
the question: its cosine with the question, and how far the units its claims rest on fall short
of the unit closest to the question (an off-topic verbatim copy is supported but not an answer).
The weakest claims' signals and the relevance signals go through the logistic model fitted on
the benchmark's tune split (offline_v2_model.json): score = estimated probability that the
answer is faithful. A verdict ("SUPPORTS", "No.") is scored on the hypothesis it judges: P(supported)
for SUPPORTS / yes; for REFUTES / no and NOT ENOUGH INFO, the rest split by whether the contexts
state a conflicting number, name or polarity. Agreement with human labels on the held-out split:
agreement.json, from benchmarks/bench_offline_judge.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal

from pydantic import BaseModel, Field

from harness.metrics.faithfulness.claims import answer_claims, find_verdict, is_short, number_found, strip_headers
from harness.metrics.faithfulness.offline_v1 import OfflineJudgeV1Settings
from harness.metrics.faithfulness.text import Unit, analyse, context_units
from harness.runtime.offloop import import_off_loop

if TYPE_CHECKING:
    import numpy as np

OFFLINE_VERSION = "offline-v2"
MODEL_FILE = Path(__file__).with_name("offline_v2_model.json")
FEATURES = ("lexical", "cosine", "numbers_missing", "names_missing", "negation", "relevance", "relevance_gap")

Embedder = Callable[[list[str]], Awaitable["np.ndarray"]]


class OfflineJudgeSettings(OfflineJudgeV1Settings):
    """`version` picks the judge; the thresholds and rules above it apply to offline-v1 only."""

    version: Literal["offline-v2", "offline-v1"] = "offline-v2"
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="offline-v2: score at or above which an answer counts as faithful "
        "(default: the one chosen on the benchmark's tune split)."
    )  # fmt: skip


@dataclass
class Evidence:
    """The signals for one claim (or, aggregated, for the whole answer)."""

    values: dict[str, float]
    claim: str = ""
    best_unit: str = ""
    best_index: int = 0


class ClaimEvidence(BaseModel):
    claim: str
    probability: float
    evidence: str | None
    signals: dict[str, float]


class JudgeResult(BaseModel):
    value: float | None
    claims: list[ClaimEvidence] = []
    reason: str | None = None
    verdict: dict[str, Any] | None = None


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path.name} was fitted on features {data['features']}, the judge computes {list(FEATURES)}")
    return data


def probability(model: dict[str, Any], values: dict[str, float]) -> float:
    """The fitted logistic model: P(faithful) from one claim's (or the weakest claims') signals."""
    import numpy as np
    vector = np.array([values[name] for name in FEATURES], dtype=np.float64)
    z = (vector - np.asarray(model["mean"])) / np.asarray(model["scale"])
    logit = float(z @ np.asarray(model["weights"]) + model["intercept"])
    return float(1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30))))


class OfflineJudge:
    """Stateless apart from an in-memory embedding cache (texts repeat across systems)."""

    def __init__(self, settings: OfflineJudgeSettings | None = None, embed: Embedder | None = None, model: dict[str, Any] | None = None):
        self.settings = settings or OfflineJudgeSettings()
        if self.settings.embedding_model is None:
            raise ValueError("offline-v2 needs an embedding model (offline.embedding_model); offline-v1 can run without one")
        self._embed = embed
        self.model = model or load_model()
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def threshold(self) -> float:
        return self.settings.threshold if self.settings.threshold is not None else float(self.model["threshold"])

    @property
    def judge_id(self) -> str:
        return f"{OFFLINE_VERSION}(emb={self.settings.embedding_model},model={self.model['fitted_on']},t={self.threshold:.3g})"

    async def _embeddings(self, texts: list[str]) -> np.ndarray:
        import numpy as np
        if self._embed is None:
            raise RuntimeError("offline-v2 needs embeddings but the judge has no embedder")
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            found = np.asarray(await self._embed(missing), dtype=np.float32)
            found = found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-9)
            if len(self._vectors) > 50_000:
                self._vectors.clear()
            self._vectors.update(zip(missing, found))
        return np.stack([self._vectors[t] for t in texts])

    async def evidence(self, question: str, answer: str, contexts: list[str]) -> tuple[list[Evidence], Evidence | None, dict | None, str | None]:
        """Per-claim evidence, the answer's aggregate, the verdict (if any), or a reason there is none."""
        np = await import_off_loop("numpy")  # its first import is not for the event loop to wait on
        passages = [strip_headers(c) for c in contexts]
        units = context_units([p for p in passages if p], self.settings.window)
        if not units:
            return [], None, None, "no contexts"
        verdict = find_verdict(question, strip_headers(answer))
        if verdict is not None:
            claims = [analyse(verdict.hypothesis)] + answer_claims(question, verdict.rest)
        else:
            claims = answer_claims(question, answer)
        if not claims:
            return [], None, None, "no claims"
        body = strip_headers(answer) if verdict is None else (verdict.rest or verdict.hypothesis)
        if question and is_short(body):
            body = f"{question.strip()} {body}"
        texts = [c.text for c in claims] + [u.text for u in units] + [question or body, body]
        vectors = await self._embeddings(texts)
        n = len(claims)
        unit_vectors = vectors[n : n + len(units)]
        cosines = vectors[:n] @ unit_vectors.T
        to_question = unit_vectors @ vectors[-2] if question else np.ones(len(units))
        relevance = float(vectors[-2] @ vectors[-1]) if question else 1.0
        # what the question gives may be repeated; a claim the question asks about (a verdict's
        # hypothesis) is not given
        given = (question or "").replace(verdict.hypothesis, " ") if verdict is not None else (question or "")
        pool = _pool(units, analyse(given))
        per_claim = [self._claim_evidence(claim, units, cosines[i], pool) for i, claim in enumerate(claims)]
        if verdict is not None:
            per_claim[0] = self._claim_evidence(claims[0], units, cosines[0], _pool(units, analyse("")))
        # does the answer address the question? its cosine with the question, and how far the
        # units its claims rest on fall short of the unit closest to the question
        addressed = max(float(to_question[e.best_index]) for e in per_claim[(1 if verdict else 0) :] or per_claim)
        for e in per_claim:
            e.values["relevance"] = relevance
            e.values["relevance_gap"] = max(0.0, float(to_question.max()) - addressed)
        info = None
        if verdict is not None:
            hypothesis = per_claim[0]
            conflict = _conflict(claims[0], units, cosines[0], _pool(units, analyse("")))
            info = {"kind": verdict.kind, "hypothesis": verdict.hypothesis, "conflict": conflict}
            for e in per_claim:  # the hypothesis comes from the question: it is on topic by construction
                e.values["relevance"], e.values["relevance_gap"] = max(relevance, float(to_question.max())), 0.0
            info["hypothesis_evidence"] = hypothesis
            per_claim = per_claim[1:]
        aggregate = _worst(per_claim) if per_claim else None
        return per_claim, aggregate, info, None

    def _claim_evidence(self, claim: Unit, units: list[Unit], cosines: np.ndarray, pool: Unit) -> Evidence:
        import numpy as np
        lexical = np.array([_recall(claim, u) for u in units])
        best = int(np.argmax(lexical + cosines))
        close = lexical[best] >= 0.5 or cosines[best] >= 0.6
        values = {
            "lexical": float(lexical.max()),
            "cosine": float(cosines.max()),
            "numbers_missing": float(min(3, sum(not number_found(x, pool.numbers) for x in claim.numbers))),
            "names_missing": float(min(3, len(claim.names - pool.names))),
            "words_missing": float(min(5, len(claim.words - pool.words))),
            "negation": float(close and claim.negated != units[best].negated),
        }
        return Evidence(values=values, claim=claim.text, best_unit=units[best].text, best_index=best)

    async def judge(self, question: str, answer: str, contexts: list[str]) -> JudgeResult:
        per_claim, aggregate, verdict, reason = await self.evidence(question, answer, contexts)
        if reason is not None:
            return JudgeResult(value=None, reason=reason)
        claims = [self._claim_result(e) for e in per_claim]
        if verdict is not None:
            support = probability(self.model, verdict.pop("hypothesis_evidence").values)
            conflict = verdict["conflict"]
            verdict["support"] = round(support, 4)
            value = {"support": support, "refute": (1 - support) * conflict, "unknown": (1 - support) * (1 - conflict)}[verdict["kind"]]
            if aggregate is not None:
                value = min(value, probability(self.model, aggregate.values))
            return JudgeResult(value=round(value, 4), claims=claims, verdict=verdict)
        assert aggregate is not None
        return JudgeResult(value=round(probability(self.model, aggregate.values), 4), claims=claims)

    def _claim_result(self, e: Evidence) -> ClaimEvidence:
        return ClaimEvidence(
            claim=e.claim, probability=round(probability(self.model, e.values), 4), evidence=e.best_unit or None,
            signals={k: round(v, 4) for k, v in e.values.items()},
        )  # fmt: skip

    def detail(self, result: JudgeResult) -> dict[str, Any]:
        return {
            "judge": "offline",
            "judge_id": self.judge_id,
            "judge_version": OFFLINE_VERSION,
            "threshold": self.threshold,
            "faithful": None if result.value is None else result.value >= self.threshold,
            "n_claims": len(result.claims),
            "n_supported": sum(c.probability >= self.threshold for c in result.claims),
            "claims": [c.model_dump() for c in result.claims],
            **({"verdict": result.verdict} if result.verdict is not None else {}),
        }


def _pool(units: list[Unit], question: Unit) -> Unit:
    """Everything the contexts and the question say: numbers, names and words that are 'given'."""
    pool = Unit(text="", words=set(question.words), numbers=set(question.numbers), names=set(question.names))
    for unit in units:
        pool.words |= unit.words
        pool.numbers |= unit.numbers
        pool.names |= unit.names
    pool.names |= {n for n in question.words}  # a question's lower-case words may be names in the answer
    return pool


def _worst(items: list[Evidence]) -> Evidence:
    """The answer is as faithful as its weakest claim: min of support signals, max of problems."""
    worst = {
        "lexical": min(e.values["lexical"] for e in items),
        "cosine": min(e.values["cosine"] for e in items),
        "numbers_missing": min(3.0, sum(e.values["numbers_missing"] for e in items)),
        "names_missing": min(3.0, sum(e.values["names_missing"] for e in items)),
        "words_missing": max(e.values["words_missing"] for e in items),
        "negation": max(e.values["negation"] for e in items),
        "relevance": items[0].values["relevance"],
        "relevance_gap": items[0].values["relevance_gap"],
    }
    return Evidence(values=worst)


def _conflict(claim: Unit, units: list[Unit], cosines: np.ndarray, pool: Unit) -> float:
    """1 when the unit closest to a hypothesis states a different value (a number or name of the
    hypothesis is nowhere in the contexts, and that unit has others) or the opposite polarity:
    the contexts refute it rather than merely not mention it."""
    import numpy as np
    lexical = np.array([_recall(claim, u) for u in units])
    unit = units[int(np.argmax(lexical + cosines))]
    different_number = any(not number_found(x, pool.numbers) for x in claim.numbers) and bool(unit.numbers - claim.numbers)
    different_name = bool(claim.names - pool.names) and bool(unit.names - claim.names)
    return float(different_number or different_name or claim.negated != unit.negated)


def _recall(claim: Unit, unit: Unit) -> float:
    if not claim.words:
        return 1.0
    return len(claim.words & unit.words) / len(claim.words)
