"""Cost and latency per system: percentiles split into retrieval and generation, tokens, cost per
1,000 queries, one-off costs (LoRA training, index build) and the break-even volume.

Per-query prices: a `cost.prices` entry for the system, else for its model, else the cost the
run recorded per sample (litellm's price list; 0 for local models). A per-hour price is a machine
you run: cost per query = price x mean seconds per query / 3600 / concurrent requests. One-off
costs come from the LoRA lineage (training wall time) and the index manifests (build time) the
run's artifacts point to, priced with `training_usd_per_hour` / `indexing_usd_per_hour`, plus
`one_off_usd`. The break-even between a system that is cheaper per query but dearer up front and
another is the monthly volume at which the saving pays the difference back over the horizon:

    queries per month = (one-off A − one-off B) / ((per-query B − per-query A) x horizon months)
"""

from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import Any, Sequence

from harness.decision.facts import RunFacts
from harness.decision.model import BreakEven, Costs, Latency, SystemCost
from harness.stats.bootstrap import percentiles

RULE_MS = (50.0, 200.0)  # the rule of thumb for what retrieval adds per query


def latency(values: Sequence[float]) -> Latency:
    if isinstance(values, array) and values.typecode == "d":  # read in place, not copied into a list first
        import numpy as np

        values = np.frombuffer(values, dtype=np.float64)
    found = percentiles(values, (50, 95))
    return Latency(p50=found["p50"], p95=found["p95"], n=len(values))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def one_off(facts: RunFacts, system: str, cost: SystemCost) -> None:
    """Training and index build time from the run's artifacts, priced by the suite's `cost:`."""
    artifacts = facts.header.artifacts.get(system, {})
    config = facts.cost
    total, known = 0.0, True
    lineage_path = artifacts.get("lineage")
    if lineage_path:
        lineage = _read_json(Path(lineage_path))
        seconds = ((lineage or {}).get("wall_time_s") or {}).get("total")
        if seconds is None:
            cost.one_off_notes.append(f"LoRA lineage not readable on this machine ({lineage_path})")
            known = False
        else:
            cost.training_s = float(seconds)
            n_examples = ((lineage or {}).get("training_data") or {}).get("n_examples")
            if n_examples is not None:
                cost.one_off_notes.append(f"LoRA trained on {n_examples} examples in {float(seconds):.0f} s")
            if config.training_usd_per_hour is not None:
                cost.training_usd = cost.training_s / 3600.0 * config.training_usd_per_hour
                total += cost.training_usd
            else:
                known = False  # a time without a price: the one-off cost is unknown, not $0
    elif facts.kind(system) in ("finetuned", "hybrid") and facts.header.systems.get(system, {}).get("train"):
        cost.one_off_notes.append("no LoRA lineage recorded in this run")
        known = False
    folders = [artifacts[k] for k in ("index", "vectors") if artifacts.get(k)]
    if folders:
        seconds = [(_read_json(Path(f) / "manifest.json") or {}).get("build_s") for f in folders]
        if any(s is None for s in seconds):
            cost.one_off_notes.append("index build time unknown (index built before build times were recorded, "
                                      "or not on this machine)")
            known = False
        else:
            cost.index_build_s = float(sum(seconds))
            if config.indexing_usd_per_hour is not None:
                cost.index_usd = cost.index_build_s / 3600.0 * config.indexing_usd_per_hour
                total += cost.index_usd
            else:
                known = False
    cost.other_one_off_usd = float(config.one_off_usd.get(system, 0.0))
    total += cost.other_one_off_usd
    cost.one_off_usd = total if known else None


def per_query(facts: RunFacts, system: str, cost: SystemCost, mean_latency: float | None,
              recorded: Sequence[float]) -> None:
    prices = facts.cost.prices
    model = facts.header.systems.get(system, {}).get("model")
    name, price = (system, prices[system]) if system in prices else (model, prices.get(str(model))) if model else (None, None)
    if price is None:
        if recorded:
            cost.usd_per_query = sum(recorded) / len(recorded)
            cost.price_source = "recorded per sample (litellm prices; 0 for local models)"
        return
    cost.price_source = f"cost.prices.{name}"
    if price.usd_per_query is not None:
        cost.usd_per_query = price.usd_per_query
    elif price.usd_per_hour is not None:
        if mean_latency is None:
            cost.price_source += " (no timed samples)"
            return
        cost.usd_per_query = price.usd_per_hour * mean_latency / 3600.0 / price.concurrent_requests
        cost.price_source += f" (${price.usd_per_hour:g}/hour x mean seconds per query / {price.concurrent_requests})"
    else:
        if cost.tokens_in is None:
            cost.price_source += " (the system reports no tokens)"
            return
        cost.usd_per_query = ((cost.tokens_in * (price.usd_per_1m_input_tokens or 0.0))
                              + ((cost.tokens_out or 0.0) * (price.usd_per_1m_output_tokens or 0.0))) / 1e6


def system_cost(facts: RunFacts, system: str, role: str | None) -> SystemCost:
    # one pass, the timings in 8-byte arrays: lists of rows and float objects would take several
    # times the memory per system, at the end of a long run
    totals, retrieval, generation, recorded = array("d"), array("d"), array("d"), array("d")
    answered = cached = with_tokens = tokens_in = tokens_out = 0
    for o in facts.outcomes.get(system, {}).values():
        if o.error:
            continue
        answered += 1
        cached += o.cached
        for column, value in ((totals, o.total_s), (retrieval, o.retrieval_s), (generation, o.generation_s),
                              (recorded, o.cost_usd)):
            if value is not None:
                column.append(value)
        if o.tokens_in is not None:
            with_tokens += 1
            tokens_in += o.tokens_in
            tokens_out += o.tokens_out or 0
    cost = SystemCost(
        system=system, role=role, total=latency(totals),
        retrieval=latency(retrieval) if retrieval else None, generation=latency(generation) if generation else None,
        cached_share=cached / answered if answered else 0.0,
        tokens_in=tokens_in / with_tokens if with_tokens else None,
        tokens_out=tokens_out / with_tokens if with_tokens else None,
    )
    per_query(facts, system, cost, sum(totals) / len(totals) if totals else None, recorded)
    if cost.usd_per_query is not None:
        cost.usd_per_1k = cost.usd_per_query * 1000.0
    one_off(facts, system, cost)
    return cost


def break_even(a: SystemCost, b: SystemCost, horizon: float) -> BreakEven | None:
    """Where `a` (cheaper per query, dearer one-off) catches up with `b`; None when no trade-off."""
    if None in (a.usd_per_query, b.usd_per_query, a.one_off_usd, b.one_off_usd):
        return None
    saving = b.usd_per_query - a.usd_per_query  # type: ignore[operator]
    extra = a.one_off_usd - b.one_off_usd  # type: ignore[operator]
    if saving <= 0 or extra <= 0:
        return None
    volume = extra / (saving * horizon)
    text = (f"{a.system} costs ${extra:.4g} more up front and ${saving * 1000:.4g} less per 1,000 queries than "
            f"{b.system}: it pays back above {volume:,.0f} queries a month over {horizon:g} months")
    return BreakEven(cheaper=a.system, other=b.system, queries_per_month=volume, horizon_months=horizon, text=text)


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f} ms" if value >= 100 else f"{value:.3g} ms"


def retrieval_overhead(cost: SystemCost) -> str | None:
    """The typical query (p50) against the 50-200 ms rule of thumb; the tail said apart."""
    if cost.retrieval is None or cost.retrieval.p50 is None:
        return None
    p50, p95 = cost.retrieval.p50, cost.retrieval.p95 or 0.0
    low, high = (v / 1000 for v in RULE_MS)
    where = "below" if p50 < low else "above" if p50 > high else "inside"
    text = (f"{cost.system}: retrieval adds p50 {ms(p50)}, p95 {ms(p95)} per query: the typical query is {where} "
            f"the {RULE_MS[0]:g}-{RULE_MS[1]:g} ms rule of thumb")
    if p95 > high:
        text += ", the slowest 5% above it"
    return text + f" (n={cost.retrieval.n})"


def costs(facts: RunFacts, roles: dict[str, str], systems: list[str]) -> Costs:
    role_of = {s: r for r, s in roles.items()}
    horizon = facts.cost.horizon_months
    found = Costs(systems=[system_cost(facts, s, role_of.get(s)) for s in systems], horizon_months=horizon)
    found.retrieval_overhead = [t for c in found.systems if (t := retrieval_overhead(c))]
    for system in systems:  # figures from answered samples only: say what that leaves out
        errors = sum(o.error for o in facts.outcomes.get(system, {}).values())
        if errors:
            found.notes.append(f"{system}: latency, tokens and cost cover its answered samples only; its {errors} "
                               "failed call(s) are left out, and timeouts are often the slowest, so its p95 may "
                               "look better than it is")
    candidates = [c for c in found.systems if c.role is not None and c.role != "oracle"]
    for a in candidates:
        for b in candidates:
            if a is not b and (point := break_even(a, b, horizon)) is not None:
                found.break_even.append(point)
    if len(candidates) > 1:  # an unknown cost is no evidence that there is no trade-off
        for c in candidates:
            unknown = [what for what, value in (("per-query", c.usd_per_query), ("one-off", c.one_off_usd)) if value is None]
            if unknown:
                found.notes.append(f"no break-even can be computed for {c.system}: its {' and '.join(unknown)} "
                                   f"cost{'s are' if len(unknown) > 1 else ' is'} unknown")
    unpriced = [kind for kind, field, price in (
        ("training", "training_s", facts.cost.training_usd_per_hour), ("index building", "index_build_s",
                                                                        facts.cost.indexing_usd_per_hour))
        if price is None and any(getattr(c, field) is not None for c in found.systems)]
    if unpriced:
        found.notes.append(f"one-off {' and '.join(unpriced)} time is measured but not priced, so one-off costs are "
                           "n/a: set cost.training_usd_per_hour / cost.indexing_usd_per_hour")
    priced = [c for c in found.systems if c.usd_per_query is not None]
    if priced and all(c.usd_per_query == 0 for c in priced):
        found.notes.append("every per-query cost is $0 (local models, no `cost.prices`): no break-even to compute; "
                           "price the machine with cost.prices (e.g. {usd_per_hour: 0.5}) to compare")
    concurrency = facts.header.settings.concurrency
    hourly = [c.system for c in found.systems if "/hour" in c.price_source]
    if hourly and concurrency > 1:
        found.notes.append(f"per-hour prices use measured latency, which for a local model serving {concurrency} "
                           "requests at once (settings.concurrency) includes waiting for the model: they are upper "
                           "bounds; set concurrent_requests to what the machine serves in parallel")
    if any(c.cached_share > 0 for c in found.systems):
        found.notes.append("latencies of answers served from the response cache are the times measured when "
                           "they were first computed")
    return found
