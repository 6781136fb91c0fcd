"""The Decision section in report.md and report.html (checked in headless Chromium), `harness
decide`, the notebook's DataFrames, the matrix and rule checks, and suite validation."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from tests.conftest import scripted_suite, write_suite
from tests.decision_runs import KINDS, sample, write_run
from harness.cli import main
from harness.decision import analyse
from harness.errors import SuiteError
from harness.report import write_reports
from harness.results import load_run
from harness.suite.loader import load_suite
from tests.report.test_report_html import chromium_dom, needs_chromium

EVIL_TAG = "<script>document.title='pwned'</script>"
EVIL_ID = 'q"><img src=x onerror=alert(1)>'


def demo_like(path):
    """Five approaches and an oracle on 30 examples (one with a hostile id, one hostile tag)."""
    n = 30
    correct = {"base": [0] * n, "few_shot": [0] * 25 + [1] * 5, "rag": [1] * 20 + [0] * 10,
               "finetuned": [0] * 27 + [1] * 3, "hybrid": [1] * 21 + [0] * 9, "oracle": [1] * 26 + [0] * 4}
    fmt = {"base": [0] * n, "few_shot": [1] * n, "rag": [0] * n, "finetuned": [1] * n, "hybrid": [1] * n, "oracle": [0] * n}
    samples = []
    for name in correct:
        retrieves = name in ("rag", "hybrid", "oracle")
        for i in range(n):
            example_id = EVIL_ID if i == 29 else f"q{i:02d}"
            tags = [EVIL_TAG] if i == 0 else (["fact", "format"] if i % 3 == 0 else ["fact"])
            retrieved = (["a.md"] if i < 25 else ["b.md"]) if retrieves else None
            samples.append(sample(name, example_id, {"contains_answer": correct[name][i], "json_schema": fmt[name][i]},
                                  tags=tags, retrieved=retrieved,
                                  timings=(1.2, 0.08, 1.12) if retrieves and name != "oracle" else (1.0, None, 1.0)))
    systems = {name: {"kind": KINDS[name], "model": "local/m"} for name in correct}
    return write_run(path, systems, samples, n_train=136)


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    run = demo_like(tmp_path_factory.mktemp("decision") / "run")
    write_reports(run)
    return run


def test_report_md_opens_with_the_decision(report_run):
    text = (report_run / "report.md").read_text()
    assert text.index("## Decision") < text.index("## Systems") < text.index("## Results")
    for heading in ("### Roles", "### Effects", "### Where each system fails", "### Knowledge vs behaviour",
                    "### Cost and latency", "### Freshness", "### Power"):
        assert heading in text, heading
    assert "**Recommendation.** Pick hybrid" in text
    assert "![Where each system fails](charts/decision_attribution.svg)" in text
    assert (report_run / "charts" / "decision_attribution.svg").read_bytes().startswith(b"<svg ")
    assert "<script>" not in text and "&lt;script>" in text  # a tag cannot inject HTML into the Markdown


def test_report_html_links_bucket_ids_to_samples_and_escapes_run_text(report_run):
    text = (report_run / "report.html").read_text()
    assert '<a href="#decision">Decision</a>' in text and '<section class="decision" id="decision">' in text
    assert text.index('id="decision"') < text.index('id="systems"')
    assert "<script" not in text.lower() and "<img src=x" not in text
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in text  # the tag, as text
    assert f'href="#ex-{quote(EVIL_ID, safe="")}"' in text  # a hostile id: percent-encoded in the link,
    assert '<details id="ex-q&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">' in text  # escaped on its target
    linked = set(re.findall(r'href="#ex-(q\d\d)"', text))
    assert linked and linked <= set(re.findall(r'<details id="ex-(q\d\d)"', text))  # every link has a target
    assert 'href="#ex-q25"' in text and '<details id="ex-q25">' in text  # a retrieval miss, linked to its sample


def test_ids_beyond_the_first_page_link_to_the_page_that_holds_them(tmp_path, monkeypatch):
    """report.html embeds only the first page of examples; a bucket's ids on later pages link there."""
    import harness.report.pages as pages
    from tests.decision_runs import binary_run

    monkeypatch.setattr(pages, "PAGE_SIZE", 10)
    run = binary_run(tmp_path / "run", {"base": [0] * 25, "rag": [1] * 5 + [0] * 20, "oracle": [1] * 25})
    write_reports(run, charts=False)
    text = (run / "report.html").read_text()
    assert 'href="#ex-q001"' in text and '<details id="ex-q001">' in text  # page 1: report.html itself
    assert 'href="report_pages/samples-0002.html#ex-q012"' in text
    assert 'href="report_pages/samples-0003.html#ex-q024"' in text
    assert '<details id="ex-q024">' in (run / "report_pages" / "samples-0003.html").read_text()


@needs_chromium
def test_decision_section_renders_in_chromium(report_run, tmp_path):
    dom, log = chromium_dom(report_run / "report.html", tmp_path)
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []
    assert "<title>Run report: decision-test</title>" in dom  # the hostile tag did not run
    section = dom[dom.index('id="decision"'):dom.index('id="systems"')]
    assert section.count("<table") == 6  # roles, effects by tag, failures, matrix, costs, power
    for heading in ("Roles", "Effects", "Where each system fails", "Knowledge vs behaviour", "Cost and latency",
                    "Freshness", "Power"):
        assert f">{heading}</h3>" in section, heading
    assert "Pick hybrid" in section and 'src="data:image/svg+xml;base64,' in section
    assert '<a href="#ex-q25">q25</a>' in section


def test_harness_decide_prints_markdown_and_json(report_run, capsys, tmp_path):
    assert main(["decide", str(report_run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Decision") and "Pick hybrid" in out
    assert main(["decide", str(report_run), "--json", "--out", str(tmp_path / "d.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recommendation"]["system"] == "hybrid" and data["roles"]["assigned"]["oracle"] == "oracle"
    assert json.loads((tmp_path / "d.json").read_text()) == data
    assert main(["decide", str(tmp_path / "nowhere")]) == 2


def test_decide_with_a_suite_file_overrides_the_goals(report_run, tmp_path, capsys):
    suite = tmp_path / "goals.yaml"
    suite.write_text("decision:\n  must: ['json_schema >= 0.95']\n  weights: {contains_answer: 1}\n  base: few_shot\n")
    assert main(["decide", str(report_run), "--suite", str(suite), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["roles"]["assigned"]["base"] == "few_shot" and data["recommendation"]["weights"] == {"contains_answer": 1.0}
    suite.write_text("decision:\n  must: ['json_schema about 0.95']\n")
    assert main(["decide", str(report_run), "--suite", str(suite)]) == 2
    assert "decision.must.0" in capsys.readouterr().err


def test_a_goals_file_keeps_what_it_does_not_say_and_names_only_systems_of_the_run(tmp_path, capsys):
    from tests.decision_runs import binary_run

    run = binary_run(tmp_path / "run", {"base": [0, 1] * 10, "rag": [1] * 20},
                     cost={"prices": {"scripted/x": {"usd_per_query": 0.002}}})
    goals = tmp_path / "goals.yaml"
    goals.write_text("decision:\n  correctness: contains_answer\n")
    assert main(["decide", str(run), "--suite", str(goals), "--json"]) == 0
    costs = json.loads(capsys.readouterr().out)["costs"]["systems"]
    assert [c["usd_per_query"] for c in costs] == [0.002, 0.002]  # the recorded prices, not none at all
    goals.write_text("decision:\n  base: nosuch\n  candidates: [rag, gone]\n")
    assert main(["decide", str(run), "--suite", str(goals)]) == 2
    err = capsys.readouterr().err
    assert "decision.base: no system named 'nosuch'" in err and "decision.candidates[1]: no system named 'gone'" in err
    goals.write_text("name: only a name\n")
    assert main(["decide", str(run), "--suite", str(goals)]) == 2
    assert "neither a `decision:` nor a `cost:` section" in capsys.readouterr().err


def test_notebook_gets_dataframes(report_run):
    tables = load_run(report_run).decision()
    assert tables.recommendation.startswith("Pick hybrid")
    assert set(tables.roles["role"]) == {"base", "few_shot", "rag", "finetuned", "hybrid", "oracle"}
    retrieval = tables.effects[(tables.effects.effect == "retrieval") & (tables.effects.metric == "contains_answer")
                               & tables.effects.tag.isna()].iloc[0]
    assert retrieval["delta"] == pytest.approx(20 / 30) and retrieval["verdict"] == "better"
    rag = tables.attribution[tables.attribution.system == "rag"].set_index("bucket")["count"]
    assert rag["correct"] == 0 and rag["format_failure"] == 20 and rag["retrieval_miss"] == 5
    assert set(tables.bucket_ids[(tables.bucket_ids.system == "rag") & (tables.bucket_ids.bucket == "retrieval_miss")]
               .example_id) == {"q25", "q26", "q27", "q28", EVIL_ID}
    assert list(tables.costs.columns[:4]) == ["system", "role", "latency_p50_s", "latency_p95_s"]
    assert len(tables.rules) == 3 and tables.freshness.empty


def test_knowledge_vs_behaviour_matrix_and_rules(report_run):
    decision = analyse(report_run)
    knowledge = next(r for r in decision.matrix if r.aspect == "knowledge" and r.tag is None)
    assert knowledge.winner == "hybrid" and knowledge.runner_up == "rag"
    assert knowledge.lead.verdict == "too_few" or "does not support" in knowledge.text  # 21 vs 20 right
    behaviour = next(r for r in decision.matrix if r.aspect == "behaviour" and r.metric == "json_schema")
    assert behaviour.cells["finetuned"].mean == 1.0 and behaviour.cells["rag"].mean == 0.0
    assert behaviour.winner is None and behaviour.tied == ["few_shot", "finetuned", "hybrid"]  # a tie names no winner
    assert "tie at 1.000; no approach wins" in behaviour.text
    assert any(r.aspect == "behaviour" and r.tag == "format" for r in decision.matrix)  # a format-type tag
    rules = {r.rule: r for r in decision.rules}
    assert rules["RAG brings the facts"].status == "confirmed"
    assert rules["Fine-tuning brings the format"].status == "confirmed"
    assert rules["The hybrid gets both"].status == "confirmed"
    assert "no detectable loss" in rules["The hybrid gets both"].text


def test_suite_sections_are_validated_with_locations(tmp_path):
    suite = scripted_suite([{"id": "a", "input": "repeat the number 1", "reference": "1"}])
    suite["decision"] = {"base": "nope", "must": ["json_schema >= 0.95"], "weights": {"exact_match": 0}}
    suite["cost"] = {"prices": {"plain": {"usd_per_hour": 1, "usd_per_query": 0.1}, "scripted/unknown": {"usd_per_query": 1}}}
    with pytest.raises(SuiteError) as caught:
        load_suite(write_suite(tmp_path, suite))
    text = str(caught.value)
    assert "decision: weights must be greater than 0: exact_match" in text
    assert "cost.prices.plain: give one way to charge" in text
    ok = scripted_suite([{"id": "a", "input": "repeat the number 1", "reference": "1"}])
    ok["decision"] = {"base": "nope"}
    ok["cost"] = {"prices": {"scripted/unknown": {"usd_per_query": 1}}, "one_off_usd": {"ghost": 3}}
    with pytest.raises(SuiteError) as caught:
        load_suite(write_suite(tmp_path, ok, name="ok.yaml"))
    text = str(caught.value)
    assert "decision.base: no system named 'nope'" in text
    assert "cost.prices.scripted/unknown: neither a system nor a model of this suite" in text
    assert "cost.one_off_usd.ghost: no system named 'ghost'" in text
    good = scripted_suite([{"id": "a", "input": "repeat the number 1", "reference": "1"}])
    good["decision"] = {"base": "plain", "must": ["latency_p95 <= 1500 ms", "exact_match >= 50%"]}
    good["cost"] = {"prices": {"scripted/adder": {"usd_per_hour": 0.5}}}
    loaded = load_suite(write_suite(tmp_path, good, name="good.yaml"))
    assert [r.label() for r in loaded.decision.must] == ["latency_p95 <= 1.5 s", "exact_match >= 0.5"]
