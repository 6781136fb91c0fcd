"""The run record: what `harness run` writes and every later stage reads.

- `record`: the typed header (run.json) and sample (a line of samples.jsonl), schema version 2.
- `writer`: `RunWriter`, the only code that writes them (one writer per directory, locked).
- `view`: `RunView`, the only code that reads them (streaming, torn-line rule, duplicates).
- `summary`: `RunTally`, the one ok/undefined/error tally, and summary.csv.
- `scores`: `ScoreSet`, per-example scores for compare, gate and baselines.
- `console`: the short summary `harness run` prints.

Import-light on purpose: no report, compare or adapter code is imported here.
"""

from harness.run.record import SCHEMA_VERSION, RunCounts, RunHeader, Sample, now
from harness.run.summary import RunTally, SummaryRow
from harness.run.view import RunView
from harness.run.writer import RunLockedError, RunWriter

__all__ = [
    "SCHEMA_VERSION", "RunCounts", "RunHeader", "RunLockedError", "RunTally", "RunView", "RunWriter", "Sample",
    "SummaryRow", "now",
]
