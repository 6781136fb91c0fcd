"""A hand-made run directory (shared by the report tests) and the rules reports are built on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.report.data import UNTAGGED, RunData, fmt, pareto_front
from harness.run import RunCounts, RunHeader, RunTally
from harness.run.summary import to_csv
from harness.types import MetricInfo, infer_metric_info

SYSTEMS = {"plain": "prompt", "rag": "rag", "oracle": "oracle", "broken": "custom"}
EXAMPLES = [
    {"id": "e1", "input": "What is one?", "reference": "1", "tags": ["easy"]},
    {"id": "e2", "input": "What is two? <img src=x onerror=alert(1)>", "reference": "2", "tags": ["easy", "numeric"]},
    {"id": "e3", "input": "A hard one", "reference": "3", "tags": ["hard"]},
    {"id": "e4", "input": "No tags here", "reference": "4", "tags": []},
]
EXACT = {"plain": [1, 0, 0, 1], "rag": [1, 1, 0, 1], "oracle": [1, 0, 1, 0], "broken": [None, 0, 0, None]}
RECALL = [1.0, 0.5, 1.0, 0.0]
LATENCY = {"plain": (1.0, None, 1.0), "rag": (0.5, 0.2, 0.3), "oracle": (2.0, None, None), "broken": (3.0, None, None)}
COST = {"plain": 0.001, "rag": 0.002, "oracle": 0.003, "broken": None}
TOKENS = {"plain": 10, "rag": 100, "oracle": 200, "broken": 5}
INJECTED = '<script>document.title="pwned";document.body.insertAdjacentHTML("beforeend","<div id=pwned></div>")</script>'


def ok(name: str, value: float) -> dict:
    return {"name": name, "value": float(value), "status": "ok", "reason": None, "detail": {}}


def undefined(name: str, reason: str) -> dict:
    return {"name": name, "value": None, "status": "undefined", "reason": reason, "detail": {}}


def error(name: str, reason: str) -> dict:
    return {"name": name, "value": None, "status": "error", "reason": reason, "detail": {}}


def sample(system: str, i: int) -> dict:
    example = dict(EXAMPLES[i], split="test")
    failed = EXACT[system][i] is None
    total, retrieval, generation = LATENCY[system]
    response = {
        "text": f"answer {i + 1} from {system}" + (INJECTED if system == "oracle" else ""),
        "retrieved": None, "usage": {"input_tokens": TOKENS[system], "output_tokens": 3},
        "cost_usd": COST[system], "timings": {"total_s": total, "retrieval_s": retrieval, "generation_s": generation},
        "model": f"scripted/{system}", "cached": False, "error": None, "metadata": {},
    }
    if system == "rag":
        response["retrieved"] = [
            {"chunk_id": f"doc{i}#0", "doc_id": f"doc{i}", "text": "context <script>alert('ctx')</script>", "score": 0.9, "rank": 1},
            {"chunk_id": "noise#3", "doc_id": "noise", "text": "noise", "score": 0.1, "rank": 2},
        ]
    if failed:
        response.update(text="", error="HTTP 503: <b>overloaded</b>", timings={"total_s": 0.05})
        scores = {n: error(n, "system error: HTTP 503") for n in
                  ("exact_match", "recall@5", "faithfulness", "latency_s", "tokens_in", "cost_usd")}
    else:
        scores = {
            "exact_match": ok("exact_match", EXACT[system][i]),
            "recall@5": ok("recall@5", RECALL[i]) if system == "rag" else undefined("recall@5", "system retrieves nothing"),
            "faithfulness": (undefined("faithfulness", "no contexts <to> judge") if system == "oracle"
                             else ok("faithfulness", {"plain": 0.9, "rag": 0.8, "broken": 0.1}[system])),
            "latency_s": ok("latency_s", total),
            "tokens_in": ok("tokens_in", TOKENS[system]),
            "cost_usd": ok("cost_usd", COST[system]) if COST[system] is not None else undefined("cost_usd", "no price"),
        }
    return {"system": system, "example": example, "response": response, "scores": scores, "finished_at": None}


def summary_csv(rows: list[dict], order: list[str] | None = None) -> str:
    tally = RunTally()
    for row in rows:
        tally.add_row(row)
    return to_csv(tally.summary(samples=1000, confidence=0.95, seed=0, system_order=order or []))


def make_run(path: Path, *, summary: bool = True, status: str = "complete") -> Path:
    """Four systems of different kinds x four examples, with undefined, error and injected text."""
    path.mkdir(parents=True, exist_ok=True)
    rows = [sample(system, i) for i in range(len(EXAMPLES)) for system in SYSTEMS]
    header = RunHeader(
        run_id="handmade", suite={"name": "handmade", "description": "A suite | with a pipe", "content_hash": "abc123"},
        dataset={"n_test": 4, "n_train": 0},
        systems={name: {"kind": kind, "model": f"scripted/{name}"} for name, kind in SYSTEMS.items()},
        status=status, counts=RunCounts(planned=16, done=16, errors=2),
        warnings=["scripted models only"], degraded=["judge error rate 20% > 10%"],
    )
    (path / "run.json").write_text(header.model_dump_json(indent=2), encoding="utf-8")
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if summary:
        (path / "summary.csv").write_text(summary_csv(rows, list(SYSTEMS)), encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


def test_direction_falls_back_to_the_name_rule_in_runs_that_did_not_record_it(run_dir):
    data = RunData.load(run_dir)
    for metric in ("latency_s", "retrieval_latency_s", "generation_latency_s", "cost_usd", "tokens_in", "tokens_out"):
        assert data.lower_is_better(metric), metric
    for metric in ("exact_match", "recall@5", "faithfulness", "json_schema", "token_f1", "mrr"):
        assert not data.lower_is_better(metric), metric


def test_declared_direction_wins_over_the_name(tmp_path):
    run = make_run(tmp_path / "r")
    header = json.loads((run / "run.json").read_text())
    header["metric_info"] = {"exact_match": {"higher_is_better": False, "unit": None, "group": "abstention"}}
    (run / "run.json").write_text(json.dumps(header))
    data = RunData.load(run)
    assert data.lower_is_better("exact_match") and data.best("exact_match") == {"broken"}  # mean 0 of its ok scores
    assert "exact_match" not in data.main_metrics()


def test_format_keeps_na_and_precision():
    score, seconds = MetricInfo(), infer_metric_info("latency_s")
    assert fmt(score, None) == "n/a"
    assert fmt(score, 0.75) == "0.750"
    assert fmt(seconds, 0.0123456) == "0.0123"


def test_pareto_front_is_direction_aware():
    points = {"cheap": (1.0, 0.5), "good": (2.0, 0.9), "bad": (3.0, 0.4), "same": (1.0, 0.5)}
    assert pareto_front(points, quality_up=True, cost_up=False) == ["cheap", "same", "good"]
    assert pareto_front(points, quality_up=False, cost_up=False) == ["cheap", "same", "bad"]


def test_load_orders_systems_and_kinds(run_dir):
    data = RunData.load(run_dir)
    assert data.systems == list(SYSTEMS)
    assert data.kinds == SYSTEMS
    assert data.main_metrics() == ["exact_match", "recall@5", "faithfulness"]
    assert data.headline() == "exact_match"
    assert data.best("exact_match") == {"rag"}
    assert data.best("latency_s") == {"rag"}
    assert data.best("recall@5") == set()  # one system with a value: nothing to compare
    assert len(set(data.colours().values())) == 4


def test_tag_means_by_hand(run_dir):
    data = RunData.load(run_dir)
    assert data.tags() == ["easy", "numeric", "hard", UNTAGGED]
    assert data.tag_sizes()["easy"] == 2
    means = data.tag_means("exact_match")
    assert means["plain"]["easy"] == (0.5, 2)
    assert means["rag"]["numeric"] == (1.0, 1)
    assert means["oracle"]["hard"] == (1.0, 1)
    assert means["broken"]["easy"] == (0.0, 1)  # e1 failed: only e2 counts
    assert means["broken"][UNTAGGED] == (None, 0)


def test_missing_summary_is_recomputed(tmp_path):
    data = RunData.load(make_run(tmp_path / "r", summary=False))
    assert data.cell("rag", "exact_match")["mean"] == pytest.approx(0.75)
    assert data.cell("oracle", "faithfulness")["mean"] is None


@pytest.mark.parametrize("setup", ["missing", "no_header", "bad_header"])
def test_invalid_run_dirs_raise_harness_error(tmp_path, setup):
    path = tmp_path / "r"
    if setup != "missing":
        path.mkdir()
    if setup == "bad_header":
        (path / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(HarnessError):
        RunData.load(path)


def test_no_best_mark_when_every_system_ties(tmp_path):
    run = make_run(tmp_path / "r")
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for row in rows:
        if row["scores"]["tokens_in"]["status"] == "ok":
            row["scores"]["tokens_in"]["value"] = 7.0
    (run / "summary.csv").write_text(summary_csv(rows), encoding="utf-8")
    assert RunData.load(run).best("tokens_in") == set()
