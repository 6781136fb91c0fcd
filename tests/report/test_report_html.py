"""report.html: self-contained, escaped, and checked in a real (headless) Chromium."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest

from harness.report import write_reports
from tests.report.test_report_data import EXAMPLES, SYSTEMS, make_run

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium not installed (apt-get install -y chromium chromium-driver)"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = make_run(tmp_path_factory.mktemp("html") / "run")
    write_reports(run)
    return run / "report.html"


def test_self_contained(report):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text, re.I)
    assert "<link" not in text.lower() and "@import" not in text and "url(" not in text
    images = re.findall(r'<img src="([^"]+)"', text)
    assert len(images) == 10  # 9 report charts and the decision's failure attribution
    for uri in images:
        assert uri.startswith("data:image/svg+xml;base64,")
        assert base64.b64decode(uri.split(",", 1)[1]).startswith(b"<svg ")
    assert "Content-Security-Policy" in text


def test_every_untrusted_text_is_escaped(report):
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text.lower()  # no script element at all: the report needs no JS
    assert "&lt;script&gt;document.title=&quot;pwned&quot;" in text  # the model output, shown
    assert "&lt;script&gt;alert(&#x27;ctx&#x27;)&lt;/script&gt;" in text  # a retrieved context
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img src=x" not in text  # a dataset input
    assert "HTTP 503: &lt;b&gt;overloaded&lt;/b&gt;" in text  # an error message
    assert "no contexts &lt;to&gt; judge" in text  # a score reason


def test_per_sample_view_has_outputs_contexts_and_scores(report):
    text = report.read_text(encoding="utf-8")
    assert text.count('<details id="ex-') == len(EXAMPLES)
    assert "doc0#0" in text and "noise#3" in text  # chunk ids with their doc ids
    for status in ("ok", "undefined", "error"):
        assert f'class="{"status-error" if status == "error" else status}">{status}</td>' in text
    assert "system retrieves nothing" in text


def chromium_dom(path: Path, tmp_path: Path) -> tuple[str, str]:
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


@needs_chromium
def test_renders_in_chromium_without_running_injected_script(report, tmp_path):
    dom, log = chromium_dom(report, tmp_path)
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # no console errors (a blocked script would log one here)
    assert "<title>Run report: handmade</title>" in dom  # the injected script would have set "pwned"
    assert 'id="pwned"' not in dom and "<div id=pwned" not in dom
    assert "&lt;script&gt;document.title=\"pwned\"" in dom  # visible as text in the rendered page
    assert dom.count("<table") >= 8  # facts, systems, quality, cost, 3 tag tables, per-sample tables
    for heading in ("exact_match", "recall@5", "faithfulness", "latency_s", "cost_usd", "easy (2)"):
        assert f"<th>{heading}</th>" in dom, heading
    for system in SYSTEMS:
        assert f"<b>{system}</b>" in dom
    assert dom.count("<img src=\"data:image/svg+xml;base64,") == 10
