"""Which system plays which role: base, few-shot, RAG, fine-tuned, hybrid, oracle.

Declared roles (`decision:` in the suite) win. Otherwise a role goes to the system of its kind;
among several of one kind (a sweep, a constrained and a plain prompt) the one sharing the most
settings with its partners wins, because an effect is only the effect of retrieval or training
when everything else is equal: RAG and hybrid share a retrieval block, the fine-tuned and hybrid
models share a base model, the base shares RAG's model and decoding. Ties go to suite order,
and the note says so. A missing role is named with what the analysis cannot say without it.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.decision.model import RoleAssignment, Roles

ROLE_KINDS = {"base": "prompt", "few_shot": "few_shot", "rag": "rag", "finetuned": "finetuned",
              "hybrid": "hybrid", "oracle": "oracle"}
ROLE_LABELS = {"base": "base", "few_shot": "few-shot", "rag": "RAG", "finetuned": "fine-tuned",
               "hybrid": "hybrid", "oracle": "oracle"}
MISSING = {
    "base": "no plain prompt system (kind: prompt): the effects of retrieval, fine-tuning and few-shot "
            "(each against the base) cannot be measured; the approaches are still compared directly",
    "few_shot": "no few-shot system (kind: few_shot): the few-shot effect is not measured",
    "rag": "no RAG system (kind: rag): the effect of retrieval and the hybrid's interaction cannot be measured",
    "finetuned": "no fine-tuned system (kind: finetuned): the effect of fine-tuning and the hybrid's interaction "
                 "cannot be measured",
    "hybrid": "no hybrid system (kind: hybrid): whether combining fine-tuning with retrieval helps cannot be measured",
    "oracle": "no oracle system (kind: oracle): wrong RAG answers cannot be split into retrieval problems "
              "(fixed by the oracle) and generation problems (wrong even with the right documents)",
}
# Assignment order: each role is matched against partners already placed.
ORDER = ["hybrid", "rag", "finetuned", "base", "oracle", "few_shot"]


def infer_roles(configs: dict[str, dict[str, Any]], declared: dict[str, str], exclude: set[str] | None = None) -> Roles:
    """`configs`: system -> recorded config (with `kind`); `declared`: role -> system."""
    exclude = exclude or set()
    systems = [s for s in configs if s not in exclude]
    roles = Roles()
    taken: set[str] = set()
    chosen: dict[str, RoleAssignment] = {}
    for role, system in declared.items():
        if system in configs:
            roles.assigned[role] = system
            chosen[role] = RoleAssignment(role=role, system=system, how="declared in the suite (decision:)")
            taken.add(system)
            kind = configs[system].get("kind")
            if kind != ROLE_KINDS[role]:
                roles.notes.append(f"{system} is declared the {ROLE_LABELS[role]} system but its kind is {kind}")
        else:
            roles.notes.append(f"decision.{role}: no system named {system!r} in this run")
    for role in ORDER:
        if role in roles.assigned:
            continue
        candidates = [s for s in systems if configs[s].get("kind") == ROLE_KINDS[role] and s not in taken]
        if not candidates:
            roles.missing[role] = MISSING[role]
            chosen[role] = RoleAssignment(role=role, system=None, how=MISSING[role])
            continue
        system, how = _pick(role, candidates, configs, roles.assigned)
        roles.assigned[role] = system
        taken.add(system)
        chosen[role] = RoleAssignment(role=role, system=system, how=how)
    roles.details = [chosen[r] for r in ROLE_KINDS if r in chosen]
    roles.notes += _unequal_settings(configs, roles.assigned)
    return roles


def _pick(role: str, candidates: list[str], configs: dict[str, dict[str, Any]], placed: dict[str, str]) -> tuple[str, str]:
    kind = ROLE_KINDS[role]
    if len(candidates) == 1:
        return candidates[0], f"the only {kind} system"
    checks = _SHARED.get(role, [])
    scored = []
    for system in candidates:
        shared = [label for label, partner, same in checks
                  if partner in placed and same(configs[system], configs[placed[partner]])]
        scored.append((len(shared), system, shared))
    best = max(score for score, _, _ in scored)
    top = [(system, shared) for score, system, shared in scored if score == best]  # suite order kept
    system, shared = top[0]
    others = ", ".join(c for c in candidates if c != system)
    because = f"shares {', '.join(shared)}" if shared else "nothing sets it apart"
    tie = "; first in the suite" if len(top) > 1 else ""
    return system, (f"picked among {len(candidates)} {kind} systems ({because}{tie}; others: {others}); "
                    f"name it in `decision: {{{role}: ...}}` to choose")


def _get(config: dict[str, Any], *path: str) -> Any:
    for part in path:
        if not isinstance(config, dict):
            return None
        config = config.get(part)
    return config


def _same(*path: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return _get(a, *path) is not None and _get(a, *path) == _get(b, *path)
    return same


def _same_retrieval(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ra, rb = a.get("retrieval"), b.get("retrieval")
    return isinstance(ra, dict) and isinstance(rb, dict) and ra == rb


def _same_decoding(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a.get("structured_output")) == bool(b.get("structured_output"))


def _base_model(config: dict[str, Any]) -> Any:
    return _get(config, "train", "base_model") or config.get("model")


def _same_base_model(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _base_model(a) is not None and _base_model(a) == _base_model(b)


_SHARED: dict[str, list[tuple[str, str, Callable[[dict[str, Any], dict[str, Any]], bool]]]] = {
    "rag": [("the hybrid's retrieval block", "hybrid", _same_retrieval), ("the hybrid's base model", "hybrid", _same_base_model)],
    "finetuned": [("the hybrid's base model", "hybrid", _same_base_model),
                  ("the hybrid's training settings", "hybrid", lambda a, b: _get(a, "train", "steps") == _get(b, "train", "steps")
                   and _get(a, "train", "steps") is not None)],
    "base": [("RAG's model", "rag", _same("model")), ("RAG's decoding", "rag", _same_decoding),
             ("RAG's generation settings", "rag", _same("params"))],
    "oracle": [("RAG's model", "rag", _same("model")), ("RAG's prompt", "rag", _same("prompt"))],
    "few_shot": [("the base's model", "base", _same("model")), ("the base's decoding", "base", _same_decoding)],
}


def _unequal_settings(configs: dict[str, dict[str, Any]], assigned: dict[str, str]) -> list[str]:
    """Differences that make an effect more than the effect of retrieval or training."""
    notes = []
    base, rag = assigned.get("base"), assigned.get("rag")
    finetuned, hybrid = assigned.get("finetuned"), assigned.get("hybrid")
    if base and rag and configs[base].get("model") != configs[rag].get("model"):
        notes.append(f"{base} and {rag} use different models ({configs[base].get('model')} vs "
                     f"{configs[rag].get('model')}): the retrieval effect includes the model change")
    if base and finetuned and _base_model(configs[finetuned]) != configs[base].get("model"):
        notes.append(f"{finetuned} is not trained from {base}'s model: the fine-tuning effect includes the model change")
    retrievals = [configs[s].get("retrieval") for s in (rag, hybrid) if s]
    if rag and hybrid and all(isinstance(r, dict) for r in retrievals) and not _same_retrieval(configs[rag], configs[hybrid]):
        notes.append(f"{rag} and {hybrid} retrieve with different settings: the combination effects mix them")
    return notes
