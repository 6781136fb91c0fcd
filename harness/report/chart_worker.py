"""Charts drawn in a second process, beside the rest of the report.

Importing matplotlib and drawing the charts is most of a report's time. `harness report` starts
this worker first thing, so it imports matplotlib, reads the run and draws charts/*.png while
this process writes report.md and the HTML pages from its own pass over the samples. Whatever
goes wrong with the worker, the charts are drawn here instead (`render_charts`), so the result
never depends on it.

Protocol: the parent writes one JSON line to stdin, {"run_dir": path}, or closes stdin to stop
the worker. The worker answers with one JSON line on stdout: {"charts": [[path, title], ...]},
or {"missing": module} without the report extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

CHARTS_DIR = "charts"


class ChartWorker:
    """A started worker process: `send` then `result`, or `stop`."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.sent = False

    @classmethod
    def start(cls) -> "ChartWorker | None":
        """Start the worker (it imports matplotlib at once); None when no process can be started."""
        paths = [p or os.getcwd() for p in sys.path]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "harness.report.chart_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env,
            )
        except OSError:
            return None
        return cls(process)

    def send(self, run_dir: Path) -> None:
        """Start drawing the charts of `run_dir` (its summary.csv written)."""
        try:
            self.process.stdin.write(json.dumps({"run_dir": str(Path(run_dir).resolve())}) + "\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
            self.sent = True
        except (OSError, ValueError):
            self.sent = False

    def result(self) -> tuple[list[tuple[Path, str, bytes]], str | None] | None:
        """(charts as (path, title, PNG bytes), missing module), or None when the worker failed."""
        if not self.sent:
            self.stop()
            return None
        from harness.report.child import last_answer

        answer = last_answer(self.process, None, timeout=600)
        if answer is None:
            return None
        if answer.get("missing"):
            return [], str(answer["missing"])
        try:
            return [(Path(path), title, Path(path).read_bytes()) for path, title in answer["charts"]], None
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def stop(self) -> None:
        """End the worker without charts (a run that failed, or reports that were not wanted)."""
        from harness.report.child import stop_child

        stop_child(self.process)


def _serve(stdin: IO[str], stdout: IO[str]) -> int:
    try:
        import matplotlib.figure  # noqa: F401 - the slow import, done while the parent still works

        from harness.report.charts import render_charts
        from harness.report.data import RunData
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("matplotlib"):
            raise
        stdin.readline()
        stdout.write(json.dumps({"missing": error.name}) + "\n")
        return 0
    line = stdin.readline().strip()
    if not line:
        return 0  # stopped: no report wanted
    run_dir = Path(json.loads(line)["run_dir"])
    rendered = render_charts(RunData.load(run_dir), run_dir / CHARTS_DIR)
    stdout.write(json.dumps({"charts": [[str(path), title] for path, title, _ in rendered]}) + "\n")
    return 0


if __name__ == "__main__":
    code = _serve(sys.stdin, sys.stdout)
    sys.stdout.flush()
    os._exit(code)  # a short-lived helper: no interpreter teardown
