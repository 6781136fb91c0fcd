"""What every page shares: the store, the template environment, the caches, and formatting.

Templates are Jinja2 with autoescaping on for every file: a string from a model, a dataset or a
corpus is always inserted as text. No template takes raw HTML from data; the one exception, the
decision section, is markup that `harness.decision` builds from escaped parts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import quote, urlencode

from harness.errors import HarnessError
from harness.store.database import RunStore
from harness.types import MetricInfo
from harness.view.texts import TextCache


def content_security_policy() -> str:
    """The viewer's CSP: no script at all, no inline style, styles and images from this server only."""
    return ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


class NotFound(HarnessError):
    """A chart, an example or another part of a run that does not exist."""


def url(path: str, **params: Any) -> str:
    """A same-site URL: `path` plus the non-empty params, encoded."""
    query = urlencode([(k, v) for k, v in params.items() if v not in (None, "", False)], doseq=True)
    return path + ("?" + query if query else "")


def run_url(run_id: str, sub: str = "", **params: Any) -> str:
    return url(f"/runs/{quote(str(run_id), safe='')}{sub}", **params)


def info_of(row: dict[str, Any] | None) -> MetricInfo:
    """A run_metrics row as MetricInfo (a metric the run did not record: a unitless score)."""
    if not row:
        return MetricInfo()
    return MetricInfo(higher_is_better=bool(row["higher_is_better"]), unit=row.get("unit"), group=row.get("grp") or "quality")


def number(value: Any, info: MetricInfo | None = None) -> str:
    from harness.report.data import fmt

    if value is None:
        return "n/a"
    return fmt(info or MetricInfo(), float(value))


def when(stamp: str | None) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM UTC`."""
    if not stamp:
        return "-"
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


class Memo:
    """A small thread-safe LRU for computed pages parts (comparisons, decision analyses)."""

    def __init__(self, keep: int = 8):
        self.keep = keep
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return value


@dataclass
class Site:
    store: RunStore
    texts: TextCache = field(default_factory=TextCache)
    compares: Memo = field(default_factory=Memo)
    decisions: Memo = field(default_factory=lambda: Memo(16))
    env: Any = None

    def __post_init__(self) -> None:
        if self.env is None:
            self.env = environment()

    def render(self, template: str, status: int = 200, **context: Any) -> Any:
        from starlette.responses import HTMLResponse

        context.setdefault("store", self.store.location.shown)
        return HTMLResponse(self.env.get_template(template).render(**context), status_code=status)


def environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("harness.view", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    from harness.report.data import kind_colour

    env.globals.update(url=url, run_url=run_url, number=number, when=when, kind_colour=kind_colour)
    return env
