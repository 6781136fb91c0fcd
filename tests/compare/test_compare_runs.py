"""`harness compare`: paired rows, coverage of examples and metrics, well-formed markdown and JSON."""

import json
import re

import pytest

from harness.cli import main
from harness.compare.baseline import load
from harness.compare.compare import compare
from harness.compare.render import comparison_markdown
from harness.compare.synthetic import write_run


def ids(n, prefix="e"):
    return [f"{prefix}{i:03d}" for i in range(n)]


def values(correct, n=40, latency=1.0):
    return {i: {"exact_match": 1.0 if k < correct else 0.0, "latency_s": latency} for k, i in enumerate(ids(n))}


def table_widths(markdown):
    """Cell counts of every table row, grouped by table; escaped pipes are not separators."""
    tables, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(len(re.split(r"(?<!\\)\|", line.strip())) - 2)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def assert_tables_well_formed(markdown):
    tables = table_widths(markdown)
    assert tables, "no table found"
    for widths in tables:
        assert len(set(widths)) == 1, widths
        assert len(widths) >= 2
    for line in markdown.splitlines():
        if line.startswith("| ---") or line.startswith("| ---:"):
            assert set(line.replace("|", "").split()) <= {"---", "---:"}


def test_identical_runs_have_zero_deltas(tmp_path):
    a = write_run(tmp_path / "a", {"s": values(30)})
    b = write_run(tmp_path / "b", {"s": values(30)})
    result = compare(load(a), load(b))
    assert {r.metric for r in result.rows} == {"exact_match", "latency_s", "error_rate"}
    for row in result.rows:
        assert row.delta == 0 and row.p_value == 1.0 and row.verdict(0.05) == ""
        assert row.n_paired == 40
    assert not result.changes


def test_regression_is_significant_and_marked_worse(tmp_path):
    a = write_run(tmp_path / "a", {"s": values(30)})
    b = write_run(tmp_path / "b", {"s": values(12, latency=0.5)})
    result = compare(load(a), load(b))
    em = result.row("s", "exact_match")
    assert em.delta == pytest.approx(-18 / 40) and em.base_mean == 0.75 and em.new_mean == 0.3
    assert em.verdict(0.05) == "worse" and em.p_holm < 0.001
    lat = result.row("s", "latency_s")
    assert lat.delta == pytest.approx(-0.5) and lat.verdict(0.05) == "better"
    # Holm over the family: adjusted p is never below the raw p
    assert all(r.p_holm >= r.p_value for r in result.rows)


def test_examples_systems_and_metrics_in_one_side_only(tmp_path):
    base = {"s": values(30, n=40), "gone": values(5, n=5)}
    new_s = {i: v for i, v in values(30, n=44).items() if i not in {"e000", "e001"}}
    for v in new_s.values():
        v["faithfulness"] = 0.9
    a = write_run(tmp_path / "a", base)
    b = write_run(tmp_path / "b", {"s": new_s, "fresh": values(5, n=5)})
    result = compare(load(a), load(b))
    cov = {c.system: c for c in result.coverage}["s"]
    assert cov.only_base == ["e000", "e001"]
    assert cov.only_new == ["e040", "e041", "e042", "e043"]
    assert result.row("s", "exact_match").n_paired == 38
    assert result.systems_only_base == ["gone"] and result.systems_only_new == ["fresh"]
    assert result.metrics_only_new == [("s", "faithfulness")]
    text = comparison_markdown(result)
    assert "2 example(s) only in base" in text and "4 example(s) only in new" in text
    assert "`gone`" in text and "`fresh`" in text and "`s/faithfulness`" in text
    assert_tables_well_formed(text)


def test_undefined_metrics_are_not_rows_and_errors_are_counted(tmp_path):
    base = {i: {"exact_match": 1.0, "recall@5": None} for i in ids(10)}
    new = {i: {"exact_match": 1.0, "recall@5": None} for i in ids(10)}
    a = write_run(tmp_path / "a", {"s": base})
    b = write_run(tmp_path / "b", {"s": new}, failed={"s": {"e000", "e001"}})
    result = compare(load(a), load(b))
    assert result.row("s", "recall@5") is None
    em = result.row("s", "exact_match")
    assert em.n_error_new == 2 and em.n_paired == 8
    errors = result.row("s", "error_rate")
    assert errors.new_mean == pytest.approx(0.2) and errors.delta == pytest.approx(0.2)


def test_compare_cli_markdown_and_json(tmp_path, capsys):
    a = write_run(tmp_path / "a", {"s|pipe": values(30)})
    b = write_run(tmp_path / "b", {"s|pipe": values(20)})
    assert main(["compare", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "exact_match" in text and "s\\|pipe" in text
    assert_tables_well_formed(text)
    out = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--format", "json", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    row = next(r for r in data["rows"] if r["metric"] == "exact_match")
    assert row["delta"] == pytest.approx(-0.25) and row["verdict"] == "worse"
    assert set(data) >= {"base", "new", "rows", "changes", "coverage", "systems_only_base", "metrics_only_new"}


def test_compare_cli_usage_errors(tmp_path, capsys):
    a = write_run(tmp_path / "a", {"s": values(3, n=3)})
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2
    assert "no such run directory or baseline file" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{}")
    assert main(["compare", str(a), str(tmp_path / "junk.json")]) == 2
