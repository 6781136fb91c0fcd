"""The one progress component: a bar per task (a system's samples, an index build, a training
run), live on a terminal's stderr or in the cell output in Jupyter.

Silent anywhere else (CI logs, pipes), except for tasks that ask for plain lines (training:
a line per step, so a CI log shows the loss). In Jupyter the bars are drawn with rich and shown through
an IPython display handle that is replaced in place: rich's own Jupyter live view needs
ipywidgets and leaves nothing behind in a saved notebook, while a display handle needs nothing
extra and works from the worker thread `run_sync` uses inside a running event loop.
"""

from __future__ import annotations

import io
import sys
import time
from typing import Any

NOTEBOOK_REFRESH_S = 0.25


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (notebook, lab, VS Code, Colab), as rich detects it."""
    if "IPython" not in sys.modules:  # cheap: nothing can be a notebook before IPython is loaded
        return False
    try:
        from rich.console import Console

        return bool(Console().is_jupyter)
    except Exception:  # noqa: BLE001 - detection must never break a run
        return False


def _columns() -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]


class ProgressView:
    """`totals` maps each bar's name to its size; `already` counts work done before (resume).
    `transient` bars vanish when done; `plain_lines` prints a line per update where no live
    display is possible."""

    def __init__(
        self,
        totals: dict[str, int],
        already: dict[str, int] | None = None,
        *,
        enabled: bool = True,
        transient: bool = False,
        plain_lines: bool = False,
    ):
        self.notebook = enabled and in_jupyter()  # first: a kernel's stderr may claim to be a TTY
        self.enabled = enabled and (self.notebook or sys.stderr.isatty())
        self.plain_lines = enabled and plain_lines and not self.enabled
        self.totals = dict(totals)
        self.errors = {name: 0 for name in totals}
        self.transient = transient
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._already = already or {}
        self._handle: Any = None
        self._shown_at = 0.0
        self._started = time.perf_counter()

    def __enter__(self) -> "ProgressView":
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import Progress

        if self.notebook:  # tracked here, drawn by _show; the Live display is never started
            self._progress = Progress(*_columns(), console=Console(file=io.StringIO()), auto_refresh=False)
        else:
            self._progress = Progress(*_columns(), console=Console(stderr=True), transient=self.transient)
            self._progress.__enter__()
        for name, total in self.totals.items():
            self._add(name, total)
        self._show(force=True)
        return self

    def _add(self, name: str, total: int) -> None:
        done = self._already.get(name, 0)
        self._tasks[name] = self._progress.add_task(name, total=total, completed=done, note="")

    def advance(self, name: str, n: int = 1, *, failed: bool = False) -> None:
        if failed:
            self.errors[name] = self.errors.get(name, 0) + 1
        if self._progress is not None:
            label = f"[red]{self.errors[name]} errors" if self.errors.get(name) else ""
            self._progress.update(self._tasks[name], advance=n, note=label)
            self._show()

    def update(self, name: str, completed: int, total: int | None = None, note: str = "") -> None:
        """Set a bar's position (and size, for work whose size is known only once it starts)."""
        if total is not None:
            self.totals[name] = total
        if self.plain_lines:
            elapsed = time.perf_counter() - self._started
            size = self.totals.get(name, "?")
            print(f"{name}: {completed}/{size} {note} ({elapsed:.0f} s)".replace("  ", " "), file=sys.stderr, flush=True)
        if self._progress is None:
            return
        if name not in self._tasks:
            self._add(name, self.totals.get(name, total or 0))
        self._progress.update(self._tasks[name], completed=completed, total=total, note=note)
        self._show()

    def message(self, text: str) -> None:
        """A line above the bars (or on stderr when plain lines are on)."""
        if self._progress is not None and not self.notebook:
            self._progress.console.print(f"[dim]{text}[/dim]")
        elif self.plain_lines:
            print(text, file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is None:
            return
        if self.notebook:
            self._show(force=True)
        else:
            self._progress.__exit__(*exc)

    def _show(self, force: bool = False) -> None:
        """Notebook only: redraw the bars into the cell, at most every NOTEBOOK_REFRESH_S."""
        if not self.notebook or self._progress is None:
            return
        now = time.monotonic()
        if not force and now - self._shown_at < NOTEBOOK_REFRESH_S:
            return
        self._shown_at = now
        try:
            from IPython.display import display
            from rich.console import Console

            console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True, force_jupyter=False)
            console.print(self._progress.get_renderable())
            text = console.export_text(clear=False).rstrip()
            html = console.export_html(inline_styles=True, code_format="<pre style=\"line-height:1.3\">{code}</pre>")
            data = {"text/plain": text, "text/html": html}
            if self._handle is None:
                self._handle = display(data, raw=True, display_id=True)
            else:
                self._handle.update(data, raw=True)
        except Exception:  # noqa: BLE001 - a display problem must not stop the run
            self.notebook = False
