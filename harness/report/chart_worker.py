"""Charts drawn in a second process, beside the rest of the report.

Importing matplotlib and drawing the charts is most of a report's time. `harness run` starts
this worker when the run starts, so matplotlib is imported while the models are called; at the
end the worker reads the finished run directory and writes charts/*.png while this process
writes report.md and the HTML pages. `harness report` starts it first thing, for the same
overlap. Whatever goes wrong with the worker, the charts are drawn here instead
(`render_charts`), so the result never depends on it.

Protocol: the parent writes the run directory's path as one line to stdin (or closes stdin to
stop the worker); the worker answers with one JSON line on stdout: {"charts": [[path, title],
...]} or {"missing": module} when the report extra is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

CHARTS_DIR = "charts"


class ChartWorker:
    """A started worker process; `render` once, or `stop`."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process

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

    def render(self, run_dir: Path) -> tuple[list[tuple[Path, str, bytes]], str | None] | None:
        """(charts as (path, title, PNG bytes), missing module) or None when the worker failed."""
        try:
            out, _ = self.process.communicate(f"{Path(run_dir).resolve()}\n", timeout=600)
        except (OSError, subprocess.SubprocessError, ValueError):
            self.stop()
            return None
        try:
            answer = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        except json.JSONDecodeError:
            answer = None
        if self.process.returncode != 0 or not isinstance(answer, dict):
            return None
        if answer.get("missing"):
            return [], str(answer["missing"])
        try:
            return [(Path(path), title, Path(path).read_bytes()) for path, title in answer["charts"]], None
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def stop(self) -> None:
        """End the worker without charts (a run that failed, or reports that were not wanted)."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


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
    run_dir = Path(line)
    rendered = render_charts(RunData.load(run_dir), run_dir / CHARTS_DIR)
    stdout.write(json.dumps({"charts": [[str(path), title] for path, title, _ in rendered]}) + "\n")
    return 0


if __name__ == "__main__":
    code = _serve(sys.stdin, sys.stdout)
    sys.stdout.flush()
    os._exit(code)  # a short-lived helper: no interpreter teardown
