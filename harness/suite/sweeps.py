"""`sweep:` in a system: one system per combination of values, each with a name of its own.

`sweep: {top_k: [3, 5], retrieval.retriever: [bm25, dense]}` -> `name[top_k=3,retriever=bm25]`,
... A variant's name is what its results are labelled with, so two variants (or a variant and a
system declared by hand) may never share one: results labelled `fs[k=1]` must be k=1's. The
number of variants is computed before any is made (harness.suite.limits.MAX_SWEEP_VARIANTS).
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

from harness.suite.limits import MAX_SWEEP_VARIANTS, MAX_VALUES, measure


def expand_sweeps(systems: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The systems, in their order, with every sweep expanded; a located problem for each sweep
    that cannot be (too many variants, a variant name already taken)."""
    declared = {name for name, config in systems.items() if not _swept(config)}
    made_by: dict[str, tuple[str, str]] = {}  # variant name -> (swept system, the values that made it)
    budget = MAX_VALUES - measure(systems)[0]  # values the variants may add to the suite
    out: dict[str, Any] = {}
    for name, config in systems.items():
        if not _swept(config):
            out[name] = config
            continue
        config = dict(config)
        sweep = config.pop("sweep")
        where = f"systems.{name}.sweep"
        if not isinstance(sweep, dict) or not sweep or not all(
            isinstance(k, str) and k and isinstance(v, list) and v for k, v in sweep.items()
        ):
            problems.append(f"{where}: must map parameter names to non-empty lists of values")
            out[name] = config  # still validated, without the sweep, so no other error follows from this one
            continue
        keys = list(sweep)
        count = math.prod(len(sweep[k]) for k in keys)
        if count > MAX_SWEEP_VARIANTS:
            sizes = " x ".join(f"{len(sweep[k])} {k}" for k in keys)
            problems.append(f"{where}: makes {count:,} variants ({sizes}); a sweep may make at most {MAX_SWEEP_VARIANTS:,}")
            out[name] = config  # as above: validated without the sweep
            continue
        budget -= count * measure(config)[0]
        if budget < 0:
            problems.append(f"{where}: its {count:,} variants would take the suite past {MAX_VALUES:,} values")
            out[name] = config
            continue
        for values in itertools.product(*(sweep[k] for k in keys)):
            label = ",".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values))
            variant_name = f"{name}[{label}]"
            given = "{" + ", ".join(f"{k}: {v!r}" for k, v in zip(keys, values)) + "}"
            if variant_name in declared:
                problems.append(f"{where}: the variant {given} is named {variant_name!r}, like the system declared "
                                f"under that name; rename one of them")
            elif variant_name in made_by:
                other, first = made_by[variant_name]
                first += "" if other == name else f" of systems.{other}.sweep"
                problems.append(f"{where}: the variants {first} and {given} are both named {variant_name!r}; "
                                "give values that read differently")
            else:
                made_by[variant_name] = (name, given)
                variant = copy.deepcopy(config)
                if problem := _set_values(variant, keys, values):
                    problems.append(f"{where}: {problem}")
                    break
                out[variant_name] = variant
    return out


def _set_values(variant: dict[str, Any], keys: list[str], values: tuple[Any, ...]) -> str | None:
    """Each dotted key set to its value in `variant`; why not, when a key goes through a value
    that is not a mapping."""
    for key, value in zip(keys, values):
        target, parts = variant, key.split(".")
        for index, part in enumerate(parts[:-1]):
            if isinstance(target.get(part), str):  # `retrieval: main` is short for `{use: main}`
                target[part] = {"use": target[part]}
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                return f"cannot sweep {key}: {'.'.join(parts[: index + 1])} is not a mapping"
        target[parts[-1]] = value
    return None


def _swept(config: Any) -> bool:
    return isinstance(config, dict) and "sweep" in config
