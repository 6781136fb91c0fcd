"""ProgressView: live bars in a terminal or Jupyter cell, silent (and harmless) elsewhere."""

from __future__ import annotations

import sys
import types

import harness.runtime.progress as progress
from harness.runtime.progress import ProgressView, in_jupyter


def test_silent_when_neither_terminal_nor_jupyter(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    view = ProgressView({"a": 2}, {"a": 0})
    assert not view.enabled and not view.notebook
    with view:
        view.advance("a")
        view.advance("a", failed=True)
    assert view.errors == {"a": 1}


def test_plain_python_is_not_jupyter():
    assert in_jupyter() is False


def test_disabled_option_wins(monkeypatch):
    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    assert not ProgressView({"a": 1}, {}, enabled=False).enabled


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, data, raw=False):
        self.shown.append(data)


def test_jupyter_draws_bars_into_the_cell(monkeypatch):
    shown: list[dict] = []

    def display(data, raw=False, display_id=False):
        assert raw and display_id
        shown.append(data)
        return FakeHandle(shown)

    fake = types.ModuleType("IPython.display")
    fake.display = display
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(progress, "NOTEBOOK_REFRESH_S", 0.0)
    view = ProgressView({"base": 2, "rag": 1}, {"base": 1})
    assert view.enabled and view.notebook
    with view:
        view.advance("base")
        view.advance("rag", failed=True)
    final = shown[-1]
    assert "base" in final["text/plain"] and "2/2" in final["text/plain"]
    assert "1/1" in final["text/plain"] and "1 errors" in final["text/plain"]
    assert final["text/html"].startswith("<pre") and "base" in final["text/html"]
    assert len(shown) >= 3


def test_display_failure_never_stops_a_run(monkeypatch):
    fake = types.ModuleType("IPython.display")

    def broken(*args, **kwargs):
        raise RuntimeError("no frontend")

    fake.display = broken
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with ProgressView({"a": 1}, {}) as view:
        view.advance("a")
    assert view.notebook is False
