"""One progress bar per system on stderr (rich); silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from typing import Any


class ProgressView:
    def __init__(self, totals: dict[str, int], already: dict[str, int], *, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self.totals = totals
        self.errors = {name: 0 for name in totals}
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._already = already

    def __enter__(self) -> "ProgressView":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[errors]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.__enter__()
            for name, total in self.totals.items():
                self._tasks[name] = self._progress.add_task(
                    name, total=total, completed=self._already.get(name, 0), errors=""
                )
        return self

    def advance(self, name: str, *, failed: bool = False) -> None:
        if failed:
            self.errors[name] += 1
        if self._progress is not None:
            label = f"[red]{self.errors[name]} errors" if self.errors[name] else ""
            self._progress.update(self._tasks[name], advance=1, errors=label)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
