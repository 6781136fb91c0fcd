"""One system's sample as a column of the side-by-side view: output, parsed output, error,
retrieved contexts with the relevant documents marked, every score with status and reason,
latency, tokens and cost. Plain values only; the template escapes every string."""

from __future__ import annotations

import json
from typing import Any

from harness.view.site import number

MAX_OUTPUT = 20_000
MAX_CONTEXT = 3_000


def relevant_docs(example: dict[str, Any]) -> set[str]:
    relevance = example.get("reference_relevance") or {}
    graded = {str(doc) for doc, grade in relevance.items() if isinstance(grade, (int, float)) and grade > 0}
    return {str(d) for d in (example.get("reference_doc_ids") or [])} | graded


def _clip(text: Any, limit: int) -> tuple[str, bool]:
    text = "" if text is None else str(text)
    return (text, False) if len(text) <= limit else (text[:limit], True)


def column(label: str, system: str, kind: str, row: dict[str, Any] | None, example: dict[str, Any],
           infos: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The column for `row` (None: this system has no sample for the example)."""
    out: dict[str, Any] = {"label": label, "system": system, "kind": kind, "run_id": run_id, "present": row is not None,
                           "store_only": False}
    if row is None:
        return out
    response = row.get("response") or {}
    out["text"], out["text_clipped"] = _clip(response.get("text"), MAX_OUTPUT)
    parsed = response.get("parsed")
    out["parsed"] = None if parsed is None else json.dumps(parsed, indent=2, ensure_ascii=False)
    out["error"] = response.get("error")
    relevant = relevant_docs(example)
    out["retrieved"] = None
    if response.get("retrieved") is not None:
        out["retrieved"] = []
        for chunk in response["retrieved"]:
            text, clipped = _clip(chunk.get("text"), MAX_CONTEXT)
            out["retrieved"].append({
                "rank": chunk.get("rank"), "doc_id": chunk.get("doc_id"), "chunk_id": chunk.get("chunk_id"),
                "score": chunk.get("score"), "text": text, "clipped": clipped,
                "relevant": str(chunk.get("doc_id")) in relevant,
            })
    out["scores"] = [
        {"name": name, "status": (score or {}).get("status") or "error", "reason": (score or {}).get("reason"),
         "value": number((score or {}).get("value"), infos.get(name)) if (score or {}).get("status") == "ok" else ""}
        for name, score in (row.get("scores") or {}).items()
    ]
    timings = response.get("timings") or {}
    usage = response.get("usage") or {}
    out["facts"] = [
        ("latency", _seconds(timings.get("total_s"))),
        ("retrieval", _seconds(timings.get("retrieval_s"))),
        ("generation", _seconds(timings.get("generation_s"))),
        ("tokens in / out", f"{usage.get('input_tokens', '-')} / {usage.get('output_tokens', '-')}" if usage else "not reported"),
        ("cost", f"${response['cost_usd']:.6f}" if isinstance(response.get("cost_usd"), (int, float)) else "not reported"),
        ("model", response.get("model") or "-"),
        ("cached", "yes" if response.get("cached") else "no"),
    ]
    return out


def _seconds(value: Any) -> str:
    return f"{value:.3f} s" if isinstance(value, (int, float)) else "-"


def store_column(label: str, system: str, kind: str, scores: list[dict[str, Any]], infos: dict[str, Any],
                 run_id: str) -> dict[str, Any]:
    """A column from the store alone (the run directory is gone): the scores, no texts."""
    return {
        "label": label, "system": system, "kind": kind, "run_id": run_id, "present": True, "store_only": True,
        "scores": [{"name": s["metric"], "status": s["status"], "reason": None,
                    "value": number(s["value"], infos.get(s["metric"])) if s["status"] == "ok" else ""} for s in scores],
    }
