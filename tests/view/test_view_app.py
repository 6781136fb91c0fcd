"""The viewer's pages in-process (Starlette's test client): what each shows, that it matches the
run directory and `harness compare`, that untrusted text stays text, and every error is a page."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from harness.cli import main  # noqa: E402
from harness.run import RunView  # noqa: E402
from harness.store.database import RunStore  # noqa: E402
from harness.store.write import add_run  # noqa: E402
from harness.view.app import CSP, create_app  # noqa: E402
from harness.view.synthetic import Spec, write_run  # noqa: E402


class Tables(HTMLParser):
    """Cell texts of the table with a given id, row by row."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth, self.rows, self.cell = table_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (dict(attrs).get("id") == self.table_id or self.depth):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    parser = Tables(table_id)
    parser.feed(html)
    return parser.rows


@pytest.fixture
def runs(tmp_path) -> dict[str, Path]:
    root = tmp_path / "runs"
    return {
        "base": write_run(root / "base", Spec(run_id="base1111", n_examples=40, seed=1, commit="c1" * 20,
                                              started_at="2026-03-01T09:00:00+00:00", error_every=10)),
        "new": write_run(root / "new", Spec(run_id="new22222", n_examples=40, seed=2, commit="c2" * 20, payload=True,
                                            started_at="2026-03-02T09:00:00+00:00", accuracy={"rag": 0.9})),
        "other": write_run(root / "other", Spec(run_id="other333", suite="elsewhere", n_examples=5,
                                                started_at="2026-03-03T09:00:00+00:00")),
    }


@pytest.fixture
def db(runs, tmp_path) -> Path:
    path = tmp_path / "store.db"
    with RunStore.open(str(path)) as store:
        for run in runs.values():
            add_run(store, run)
    return path


@pytest.fixture
def client(db):
    store = RunStore.open(str(db), readonly=True)
    with TestClient(create_app(store, hosts=["testserver"])) as test_client:
        yield test_client
    store.close()


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.text[-2000:]
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text.lower() and "Traceback" not in response.text
    return response.text


def rows_of(path: Path) -> dict[str, dict[str, dict]]:
    out: dict = {}
    for row in RunView.open(path).rows():
        out.setdefault(row["example"]["id"], {})[row["system"]] = row
    return out


def test_the_runs_list_sorts_and_filters(client):
    html = get(client, "/")
    listed = [row[-1] for row in table(html, "runs")[1:]]
    assert listed == ["other333", "new22222", "base1111"]
    assert [row[-1] for row in table(get(client, "/?sort=started&dir=asc"), "runs")[1:]] == ["base1111", "new22222", "other333"]
    assert [row[-1] for row in table(get(client, "/?suite=elsewhere"), "runs")[1:]] == ["other333"]
    assert [row[-1] for row in table(get(client, "/?q=c2c2"), "runs")[1:]] == ["new22222"]
    assert "not a date" in get(client, "/?since=soon")
    assert "No run matches these filters" in get(client, "/?status=failed")


def test_the_run_page_shows_means_cis_counts_and_the_best(client, runs):
    html = get(client, "/runs/base")  # a unique prefix opens the run
    rows = table(html, "results")
    header = rows[0]
    assert header[:3] == ["system", "contains_answer ↑", "token_f1 ↑"] and "latency_s ↓ (s)" in header
    summary = {(r.system, r.metric): r for r in RunView.open(runs["base"]).summary()}
    oracle = next(r for r in rows if r[0].startswith("oracle"))
    cell = summary[("oracle", "contains_answer")]
    assert oracle[1] == f"{cell.mean:.3f} [{cell.ci_low:.3f}, {cell.ci_high:.3f}] {cell.n} / 0 / 0"
    prompt = next(r for r in rows if r[0].startswith("prompt"))
    assert "4 of 40 failed" in prompt[0] and prompt[3].startswith("n/a")  # recall@3: undefined for a prompt system
    assert re.search(r'<td class="num best">\s*<b>' + f"{cell.mean:.3f}", html)  # oracle is best here
    assert "Samples" in html and "/compare?new=base1111" in html and "Recommendation." in html


def test_untrusted_text_is_shown_as_text_everywhere(client):
    html = get(client, "/runs/new22222/example?id=q00000")
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html  # input, output, contexts, reasons
    assert "<img src=x" not in html and "onerror=" not in html.replace("onerror=&#34;", "")
    samples = get(client, "/runs/new22222/samples?q=pwned")
    assert "&lt;script&gt;document.title" in samples and "<b>1</b> of 40 examples match" in samples


def test_the_where_filter_and_text_search_match_the_run(client, runs):
    truth = rows_of(runs["base"])

    def ok(example, system, metric):
        score = truth[example][system]["scores"][metric]
        return score["value"] if score["status"] == "ok" else None

    expected = [e for e in truth if ok(e, "rag", "contains_answer") == 0 and ok(e, "oracle", "contains_answer") == 1]
    html = get(client, "/runs/base1111/samples?where=rag.contains_answer+%3D+0+and+oracle.contains_answer+%3D+1&show=token_f1")
    listed = [row[0] for row in table(html, "samples")[1:]]
    assert listed == expected and f"<b>{len(expected)}</b> of 40 examples match" in html
    assert table(html, "samples")[0][3] == "prompt token_f1"
    html = get(client, "/runs/base1111/samples?where=rag.contains+%3D+1")
    assert "no metric &#39;contains&#39; in this run" in html and 'id="samples"' not in html
    html = get(client, "/runs/base1111/samples?where=rag.contains_answer+%3D%3D")
    assert "expected a number at column 23 (found &#39;the end&#39;)" in html
    needle = truth["q00007"]["rag"]["response"]["text"]
    html = get(client, "/runs/base1111/samples?q=" + needle.upper().replace(" ", "+"))
    assert "q00007" in [row[0] for row in table(html, "samples")[1:]]
    html = get(client, "/runs/base1111/samples?status=error&system=prompt")
    assert [row[0] for row in table(html, "samples")[1:]] == ["q00009", "q00019", "q00029", "q00039"]


def test_the_side_by_side_view_shows_every_system_with_contexts_scores_and_costs(client, runs):
    truth = rows_of(runs["base"])["q00009"]
    html = get(client, "/runs/base1111/example?id=q00009&status=error&system=prompt")
    assert html.count('<section class="column"') == 3
    assert "HTTP 503: &lt;b&gt;overloaded&lt;/b&gt;" in html  # the prompt system failed on this one
    relevant = sum(1 for system in ("rag", "oracle") for c in truth[system]["response"]["retrieved"]
                   if c["doc_id"] in truth[system]["example"]["reference_doc_ids"])
    assert html.count('<div class="context relevant">') == relevant
    assert "system error: HTTP 503" in html and "no contexts to judge" not in html  # the failed prompt's scores
    assert f"{truth['rag']['response']['timings']['total_s']:.3f} s" in html
    assert 'id="next"' in html and "q00019" in html and "1 of 4" in html  # next within the filter
    assert "no example" in get(client, "/runs/base1111/example?id=nope", status=404)


def test_compare_shows_what_harness_compare_prints(client, runs, capsys):
    assert main(["compare", str(runs["base"]), str(runs["new"]), "--format", "json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    html = get(client, "/compare?base=base1111&new=new22222")
    shown = {(r[0].split(" config")[0], r[1][:-2]): r for r in table(html, "deltas")[1:]}
    assert len(shown) == len(expected["rows"])
    for row in expected["rows"]:
        cells = shown[(row["system"], row["metric"])]
        if row["delta"] is None:
            assert cells[4] == "n/a"
            continue
        assert cells[4] == f"{row['delta']:+.4g}" and cells[7] == str(row["n_paired"])
        assert cells[5] == f"[{row['ci_low']:+.4g}, {row['ci_high']:+.4g}]" and cells[6] == f"{row['p_holm']:.3g}"
        assert cells[8] == row["verdict"]


def test_flipped_examples_are_listed_and_open_both_answers(client, runs):
    base, new = rows_of(runs["base"]), rows_of(runs["new"])

    def value(rows, example):
        score = rows[example]["rag"]["scores"]["contains_answer"]
        return score["value"] if score["status"] == "ok" else None

    same = [e for e in base if base[e]["rag"]["example"] == new[e]["rag"]["example"]]  # an edited example is not paired
    assert len(same) == 39  # the new run's q00000 carries the markup payload
    flipped = [e for e in same if None not in (value(base, e), value(new, e)) and value(base, e) != value(new, e)]
    html = get(client, "/compare?base=base1111&new=new22222&system=rag&metric=contains_answer")
    listed = table(html, "flipped-list")[1:]
    assert [r[0] for r in listed] == flipped
    assert all(r[3] == ("better" if value(new, r[0]) == 1 else "worse") for r in listed)
    counts = next(r for r in table(html, "flips")[1:] if r[:2] == ["rag", "contains_answer"])
    assert counts[2:4] == [str(sum(value(new, e) == 1 for e in flipped)), str(sum(value(new, e) == 0 for e in flipped))]
    page = get(client, f"/runs/new22222/example?id={flipped[0]}&vs=base1111")
    labels = [label.strip() for label in re.findall(r'<h2><svg[^>]*>.*?</svg>([^<]*)<', page, re.S)]
    assert labels == [f"{system} · {side}" for system in ("prompt", "rag", "oracle")
                      for side in ("base base1111", "this run new22222")]


def test_compare_refuses_runs_of_different_suites_or_without_their_directory(client, runs):
    assert "pick two runs of the same suite" in get(client, "/compare?base=base1111&new=other333", status=400)
    shutil.rmtree(runs["new"])
    assert "directory of run new22222 is missing" in get(client, "/compare?base=base1111&new=new22222", status=400)
    assert 'value="base1111" selected' in get(client, "/compare?base=base1111")


def test_trends_by_time_and_by_commit(client, runs, db, tmp_path):
    html = get(client, "/trends?suite=synthetic&metric=contains_answer")
    assert html.count("<circle") == 6 and [r[0] for r in table(html, "trend-table")[1:]] == ["new22222", "base1111"]
    again = write_run(tmp_path / "runs" / "again", Spec(run_id="again444", n_examples=10, commit="c2" * 20,
                                                        started_at="2026-03-04T09:00:00+00:00"))
    with RunStore.open(str(db)) as store:
        add_run(store, again)
    html = get(client, "/trends?suite=synthetic&metric=contains_answer&by=commit")
    assert [r[0] for r in table(html, "trend-table")[1:]] == ["again444", "base1111"]  # the latest run of each commit
    assert html.count("<circle") == 6 and ">c1c1c1c1<" in html
    interrupted = write_run(tmp_path / "runs" / "cut", Spec(run_id="cut55555", suite="cut", n_examples=4, status="interrupted"))
    with RunStore.open(str(db)) as store:
        add_run(store, interrupted)
    assert "No complete runs of cut with contains_answer" in get(client, "/trends?suite=cut")
    assert get(client, "/trends?suite=cut&all=1").count("<circle") == 3


def test_a_missing_run_directory_still_shows_what_the_store_has(client, runs):
    shutil.rmtree(runs["base"])
    html = get(client, "/runs/base1111")
    assert "is missing (deleted, or moved elsewhere)" in html and table(html, "results")
    html = get(client, "/runs/base1111/samples?where=oracle.contains_answer+%3D+1")
    assert "texts and text search need it" in html and table(html, "samples")
    assert "Text search needs the run directory" in get(client, "/runs/base1111/samples?q=code")
    html = get(client, "/runs/base1111/example?id=q00001")
    assert "The scores below come from the store" in html and html.count('<section class="column"') == 3


def test_errors_are_pages_with_a_reason(client, db):
    assert "no run &#39;zzz&#39; in the run store" in get(client, "/runs/zzz", status=404)
    assert "no such page" in get(client, "/nowhere", status=404)
    response = client.post("/runs/base1111")
    assert response.status_code == 405 and response.headers["content-security-policy"] == CSP
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert "which example?" in get(client, "/runs/base1111/example", status=400)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for url in ("/", "/runs/base1111", "/runs/base1111/samples", "/trends", "/compare?base=base1111&new=new22222"):
        get(client, url)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # read-only: browsing changes nothing
    db.write_bytes(b"not a database" * 1000)
    html = get(client, "/", status=503)
    assert "The run store cannot be read" in html and "damaged or not a run store" in html


def test_charts_are_served_from_the_run_directory_only(client, runs):
    from harness.report import write_reports

    write_reports(runs["base"])
    (runs["base"] / "charts" / "metric_contains_answer.png").write_bytes(b"\x89PNG older")  # beside its SVG
    (runs["base"] / "charts" / "metric_old.png").write_bytes(b"\x89PNG older")  # a run reported before SVG
    html = get(client, "/runs/base1111")
    names = re.findall(r'<img src="/runs/base1111/charts/([^"]+)"', html)
    assert "metric_contains_answer.svg" in names and "metric_old.png" in names and len(names) >= 4
    assert "metric_contains_answer.png" not in names  # the same chart once
    response = client.get("/runs/base1111/charts/metric_contains_answer.svg")
    assert response.status_code == 200 and response.content.startswith(b"<svg ")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert client.get("/runs/base1111/charts/metric_old.png").headers["content-type"] == "image/png"
    assert client.get("/runs/base1111/charts/..%2Frun.json").status_code == 404
    assert client.get("/runs/base1111/charts/nope.png").status_code == 404


def _fake_decision(monkeypatch, analyse, render_html):
    module = types.ModuleType("harness.decision")
    module.analyse = analyse
    module.render_html = render_html
    monkeypatch.setitem(sys.modules, "harness.decision", module)


def test_the_run_page_opens_with_the_decision_section_under_the_strict_policy(client):
    """The same analysis as report.html's, styled from a same-site file (no inline style), its
    example ids opening the side-by-side view."""
    html = get(client, "/runs/base1111")
    assert html.count('id="decision"') == 1 and "Recommendation." in html
    assert " style=" not in html and "<style" not in html
    assert '<link rel="stylesheet" href="/decision.css">' in html
    assert 'href="/runs/base1111/example?id=' in html
    css = client.get("/decision.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".decision .swatch" in css.text and css.headers["content-security-policy"] == CSP


def test_a_failing_decision_analysis_leaves_the_page_working(monkeypatch, db):
    def analyse(view):
        raise ZeroDivisionError("no runs to weigh")

    _fake_decision(monkeypatch, analyse, lambda decision: "")
    with RunStore.open(str(db), readonly=True) as store, TestClient(create_app(store, hosts=["testserver"])) as client:
        html = get(client, "/runs/base1111")
    assert "The decision analysis failed: ZeroDivisionError: no runs to weigh" in html and table(html, "results")
