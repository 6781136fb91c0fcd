"""Charts drawn in a second process, beside the rest of the report.

Importing matplotlib and drawing the charts is most of a report's time. `harness run` starts
this worker when the run starts, so matplotlib is imported while the models are called; at the
end the worker reads the finished run directory and writes charts/*.png while this process
writes report.md and the HTML pages. `harness report` starts it first thing, for the same
overlap. Whatever goes wrong with the worker, the charts are drawn here instead
(`render_charts`), so the result never depends on it.

Protocol: the parent writes one JSON line to stdin, {"run_dir": path, "stats": file}, where
`file` holds what a live run gathered (`SampleStats.charts_part`, removed once read; null: the
worker reads the samples itself), or closes stdin to stop the worker. The worker answers with one JSON line on
stdout: {"charts": [[path, title], ...]}, or {"missing": module} without the report extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

CHARTS_DIR = "charts"


class ChartWorker:
    """A started worker process: `send` then `result`, or `stop`."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.sent = False
        self.stats_file: str | None = None

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

    def send(self, run_dir: Path, stats: Any = None) -> None:
        """Start drawing the charts of `run_dir` (summary.csv written). `stats`: the run's
        `SampleStats` when gathered already (the worker then reads no samples)."""
        order: dict[str, Any] = {"run_dir": str(Path(run_dir).resolve()), "stats": None}
        try:
            if stats is not None:  # in a file: a pipe would block on a large run's latencies
                with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="harness-stats-", delete=False,
                                                 encoding="utf-8") as handle:
                    json.dump(stats.charts_part(), handle)
                order["stats"] = self.stats_file = handle.name
            self.process.stdin.write(json.dumps(order) + "\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
            self.sent = True
        except (OSError, ValueError):
            self.sent = False

    def result(self) -> tuple[list[tuple[Path, str, bytes]], str | None] | None:
        """(charts as (path, title, PNG bytes), missing module), or None when the worker failed."""
        if not self.sent:
            self.stop()
            return None
        try:
            out, _ = self.process.communicate(timeout=600)
        except (OSError, subprocess.SubprocessError, ValueError):
            self.process.kill()
            self.stop()
            return None
        try:
            answer = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        except json.JSONDecodeError:
            answer = None
        self._forget_stats()
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
            except (OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self._forget_stats()

    def _forget_stats(self) -> None:
        if self.stats_file is not None:  # normally removed by the worker once read
            Path(self.stats_file).unlink(missing_ok=True)


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
    order = json.loads(line)
    run_dir = Path(order["run_dir"])
    if order.get("stats") is not None:
        from harness.report.data import SampleStats

        stats_file = Path(order["stats"])
        try:
            part = json.loads(stats_file.read_text(encoding="utf-8"))
        finally:
            stats_file.unlink(missing_ok=True)
        data = RunData.with_stats(run_dir, SampleStats.from_charts_part(part))
    else:
        data = RunData.load(run_dir)
    rendered = render_charts(data, run_dir / CHARTS_DIR)
    stdout.write(json.dumps({"charts": [[str(path), title] for path, title, _ in rendered]}) + "\n")
    return 0


if __name__ == "__main__":
    code = _serve(sys.stdin, sys.stdout)
    sys.stdout.flush()
    os._exit(code)  # a short-lived helper: no interpreter teardown
