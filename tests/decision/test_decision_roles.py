"""Role inference: kinds, shared settings among several of one kind, declared roles, missing roles."""

from __future__ import annotations

from harness.decision.roles import MISSING, infer_roles

RETRIEVAL = {"use": "main", "retriever": "hybrid", "top_k": 3}
DEMO = {
    "prompt": {"kind": "prompt", "model": "local/m", "structured_output": False},
    "prompt_constrained": {"kind": "prompt", "model": "local/m", "structured_output": True},
    "few_shot": {"kind": "few_shot", "model": "local/m"},
    "rag": {"kind": "rag", "model": "local/m", "retrieval": RETRIEVAL},
    "oracle": {"kind": "oracle", "model": "local/m"},
    "finetuned": {"kind": "finetuned", "model": "local/m", "train": {"base_model": "local/m", "steps": 24}},
    "hybrid": {"kind": "hybrid", "model": "local/m", "train": {"base_model": "local/m", "steps": 24}, "retrieval": RETRIEVAL},
    "keyword_baseline": {"kind": "custom"},
}


def test_every_role_from_the_kinds_and_the_base_that_decodes_like_rag():
    roles = infer_roles(DEMO, {})
    assert roles.assigned == {"hybrid": "hybrid", "rag": "rag", "finetuned": "finetuned", "base": "prompt",
                              "oracle": "oracle", "few_shot": "few_shot"}
    assert roles.missing == {} and roles.notes == []
    base = next(d for d in roles.details if d.role == "base")
    assert "RAG's decoding" in base.how and "prompt_constrained" in base.how and "decision:" in base.how
    assert next(d for d in roles.details if d.role == "rag").how == "the only rag system"
    assert [d.role for d in roles.details] == ["base", "few_shot", "rag", "finetuned", "hybrid", "oracle"]


def test_among_several_rag_systems_the_one_sharing_the_hybrids_retrieval_block_wins():
    configs = {
        "rag_bm25": {"kind": "rag", "model": "local/m", "retrieval": {"use": "main", "retriever": "bm25", "top_k": 3}},
        "rag_main": {"kind": "rag", "model": "local/m", "retrieval": RETRIEVAL},
        "hybrid": DEMO["hybrid"],
    }
    roles = infer_roles(configs, {})
    assert roles.assigned["rag"] == "rag_main"
    assert "the hybrid's retrieval block" in next(d.how for d in roles.details if d.role == "rag")


def test_a_tie_goes_to_suite_order_and_says_so():
    configs = {"a": {"kind": "prompt", "model": "m"}, "b": {"kind": "prompt", "model": "m"}}
    roles = infer_roles(configs, {})
    assert roles.assigned["base"] == "a"
    assert "first in the suite" in next(d.how for d in roles.details if d.role == "base")


def test_declared_roles_win_and_odd_kinds_are_noted():
    roles = infer_roles(DEMO, {"base": "prompt_constrained", "rag": "keyword_baseline"})
    assert roles.assigned["base"] == "prompt_constrained" and roles.assigned["rag"] == "keyword_baseline"
    assert next(d.how for d in roles.details if d.role == "base") == "declared in the suite (decision:)"
    assert any("keyword_baseline is declared the RAG system but its kind is custom" in n for n in roles.notes)
    # the real rag system is then free for no role: a second rag-kind system is not assigned twice
    assert list(roles.assigned.values()).count("rag") == 0


def test_missing_roles_say_what_cannot_be_measured():
    roles = infer_roles({"prompt": DEMO["prompt"], "rag": DEMO["rag"]}, {})
    assert set(roles.missing) == {"few_shot", "finetuned", "hybrid", "oracle"}
    assert roles.missing["oracle"] == MISSING["oracle"] and "retrieval problems" in roles.missing["oracle"]
    assert "interaction cannot be measured" in roles.missing["finetuned"]
    assert next(d for d in roles.details if d.role == "hybrid").system is None


def test_declared_name_not_in_the_run_is_a_note_and_inference_fills_the_role():
    roles = infer_roles(DEMO, {"oracle": "gone"})
    assert roles.assigned["oracle"] == "oracle"
    assert "decision.oracle: no system named 'gone' in this run" in roles.notes


def test_updated_variants_play_no_role_and_model_mismatch_is_noted():
    configs = {**{k: DEMO[k] for k in ("prompt", "rag")}, "rag@updated": DEMO["rag"],
               "big_rag": {"kind": "rag", "model": "openai/gpt", "retrieval": RETRIEVAL}}
    roles = infer_roles(configs, {"rag": "big_rag"}, exclude={"rag@updated"})
    assert "rag@updated" not in roles.assigned.values()
    assert any("different models" in n and "retrieval effect includes the model change" in n for n in roles.notes)
