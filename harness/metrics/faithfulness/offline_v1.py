"""The offline faithfulness judge as it was in offline-v1 (kept so old runs can be reproduced
and the benchmark can compare): `offline: {version: offline-v1}`. No LLM, just claims checked
against context passages.

A claim (one clause of the answer) is supported by a context unit (a sentence, two adjacent
sentences, or a whole passage) when
  - every number in the claim appears in the unit (exact, after normalising 1,200 / three / 09:00),
  - every capitalised name in the claim appears in the unit (optional, on by default),
  - a negated claim meets a negated unit (optional, on by default), and
  - its content words are covered (stemmed recall >= lexical_threshold) or its embedding is close
    (cosine >= embedding_threshold, through the gateway's embedding model).
score = supported claims / claims. Thresholds calibrated on benchmarks/data/faithfulness_cases.jsonl
(see benchmarks/bench_offline_judge.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field

from harness.metrics.faithfulness.text import Unit, context_units, split_claims
from harness.runtime.offloop import import_off_loop

if TYPE_CHECKING:
    import numpy as np

OFFLINE_VERSION = "offline-v1"
DEFAULT_EMBEDDING_MODEL = "local/all-minilm-l6-v2"

Embedder = Callable[[list[str]], Awaitable["np.ndarray"]]


class OfflineJudgeV1Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embedding_model: str | None = Field(
        DEFAULT_EMBEDDING_MODEL, description="Embedding model through the gateway; None: lexical only."
    )
    lexical_threshold: float = Field(0.75, ge=0.0, le=1.0, description="Content-word recall a claim needs.")
    embedding_threshold: float = Field(0.5, ge=-1.0, le=1.0, description="Cosine a claim needs (alternative).")
    require_numbers: bool = True
    require_names: bool = True
    check_negation: bool = True
    window: int = Field(2, ge=1, description="Adjacent sentences joined into one context unit.")


class ClaimVerdict(BaseModel):
    claim: str
    supported: bool
    lexical: float
    cosine: float | None
    evidence: str | None
    why: str


class OfflineVerdict(BaseModel):
    value: float | None
    claims: list[ClaimVerdict]
    reason: str | None = None


class OfflineJudgeV1:
    """Stateless apart from an in-memory embedding cache (texts repeat across systems)."""

    def __init__(self, settings: Any = None, embed: Embedder | None = None):
        self.settings = settings or OfflineJudgeV1Settings()
        self._embed = embed if self.settings.embedding_model else None
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def judge_id(self) -> str:
        s = self.settings
        return f"{OFFLINE_VERSION}(emb={s.embedding_model or 'none'},lex={s.lexical_threshold:g},cos={s.embedding_threshold:g})"

    async def _embeddings(self, texts: list[str]) -> np.ndarray:
        import numpy as np
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            found = await self._embed(missing)  # type: ignore[misc]
            if len(self._vectors) > 50_000:
                self._vectors.clear()
            self._vectors.update(zip(missing, np.asarray(found, dtype=np.float32)))
        return np.stack([self._vectors[t] for t in texts])

    async def judge(self, answer: str, contexts: list[str]) -> OfflineVerdict:
        await import_off_loop("numpy")  # its first import is not for the event loop to wait on
        claims = split_claims(answer)
        if not claims:
            return OfflineVerdict(value=None, claims=[], reason="no claims")
        units = context_units([c for c in contexts if c and c.strip()], self.settings.window)
        if not units:
            return OfflineVerdict(value=None, claims=[], reason="no contexts")
        cosines = None
        if self._embed is not None:
            vectors = await self._embeddings([c.text for c in claims] + [u.text for u in units])
            cosines = vectors[: len(claims)] @ vectors[len(claims) :].T
        verdicts = [self._verdict(claim, units, cosines[i] if cosines is not None else None) for i, claim in enumerate(claims)]
        supported = sum(v.supported for v in verdicts)
        return OfflineVerdict(value=supported / len(verdicts), claims=verdicts)

    def _verdict(self, claim: Unit, units: list[Unit], cosines: np.ndarray | None) -> ClaimVerdict:
        s = self.settings
        best: tuple[float, int, str] | None = None  # (strength, unit index, why) of the best failing unit
        lexical = [_recall(claim, u) for u in units]
        for index, unit in enumerate(units):
            cos = float(cosines[index]) if cosines is not None else None
            blocked = self._blocked(claim, unit)
            close = lexical[index] >= s.lexical_threshold or (cos is not None and cos >= s.embedding_threshold)
            if not blocked and close:
                how = "lexical" if lexical[index] >= s.lexical_threshold else "embedding"
                return ClaimVerdict(
                    claim=claim.text, supported=True, lexical=round(lexical[index], 4),
                    cosine=None if cos is None else round(cos, 4), evidence=unit.text, why=f"supported ({how})",
                )  # fmt: skip
            strength = max(lexical[index], cos if cos is not None else 0.0)
            why = blocked or "content not covered"
            if best is None or strength > best[0]:
                best = (strength, index, why)
        assert best is not None
        _, index, why = best
        cos = float(cosines[index]) if cosines is not None else None
        return ClaimVerdict(
            claim=claim.text, supported=False, lexical=round(lexical[index], 4),
            cosine=None if cos is None else round(cos, 4), evidence=units[index].text, why=why,
        )  # fmt: skip

    def _blocked(self, claim: Unit, unit: Unit) -> str | None:
        s = self.settings
        if s.require_numbers and not claim.numbers <= unit.numbers:
            return f"numbers not in context: {', '.join(sorted(claim.numbers - unit.numbers))}"
        if s.require_names and not claim.names <= unit.names:
            return f"names not in context: {', '.join(sorted(claim.names - unit.names))}"
        if s.check_negation and claim.negated and not unit.negated:
            return "negated claim, context not negated"
        return None

    def detail(self, verdict: OfflineVerdict) -> dict[str, Any]:
        return {
            "judge": "offline",
            "judge_id": self.judge_id,
            "judge_version": OFFLINE_VERSION,
            "settings": self.settings.model_dump(),
            "n_claims": len(verdict.claims),
            "n_supported": sum(c.supported for c in verdict.claims),
            "claims": [c.model_dump() for c in verdict.claims],
        }


def _recall(claim: Unit, unit: Unit) -> float:
    if not claim.words:
        return 1.0
    return len(claim.words & unit.words) / len(claim.words)
