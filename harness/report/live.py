"""Report work done while a run goes on, so its end does not read samples.jsonl again.

The runner hands over every sample as written (the scrubbed JSON line, exactly what a later
`harness report` reads): it feeds the report's aggregates (`SampleStats`) and the sample pages.
At the end `write_reports(..., live=...)` writes report.md and report.html from them, and the
chart worker draws from the aggregates. If the pages were laid out differently from what the
finished run needs (the headline metric or the systems changed as samples came in), they are
rebuilt from the file, so the result is always what `harness report` would write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.data import RunData, SampleStats
from harness.report.pages import PageWriter, SamplePages
from harness.run import RunHeader, RunTally


class LiveReport:
    def __init__(self, path: Path, header: RunHeader, tally: RunTally):
        self.path = Path(path)
        self.header = header
        self.stats = SampleStats(tally)  # the runner keeps the tally; only the rest is added here
        self.writer: PageWriter | None = None
        self.failed = False

    def feed(self, line: str) -> None:
        """One sample, as the JSON line written to samples.jsonl."""
        if self.failed:
            return
        try:
            row = json.loads(line)
            self.stats.add_row(row, count=False)
            if self.writer is None:
                self.writer = PageWriter(self._layout(row), self.path)
            self.writer.add(row)
        except Exception:  # noqa: BLE001 - the reports are rebuilt from the file at the end
            self.failed = True

    def _layout(self, row: dict[str, Any]) -> RunData:
        """A provisional RunData for the pages: the metrics of the first sample stand in for the
        summary's (every sample of a run carries the same score names)."""
        rows = [{"system": row["system"], "metric": name} for name in row.get("scores") or {}]
        return RunData(self.path, self.header, rows)

    def finish(self, data: RunData) -> SamplePages | None:
        """The pages, when laid out as the finished run needs; else None (rebuild from the file)."""
        writer = self.writer
        if self.failed or writer is None:
            return None
        same = (
            writer.headline == (data.headline() or "")
            and writer.systems == data.systems
            and writer.kinds == data.kinds
        )
        return writer.close() if same else None
