"""pytest integration: assert suite results in a project's own tests.

    def test_quality(harness_run):
        run = harness_run("suites/x.yaml", limit=10)
        assert run.mean("rag", "faithfulness") >= 0.8
        run.assert_floor("exact_match", 0.5)          # every system

Loaded as a pytest11 plug-in in every pytest session, so it imports only pytest and the standard
library here; the harness itself loads on the first `harness_run` call. Runs are shared across a
session: the same suite with the same options runs once.
"""

from __future__ import annotations

import hashlib
import os
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "LLM evaluation harness")
    group.addoption("--harness-cache-dir", metavar="DIR", help="response cache for harness_run (default $HARNESS_CACHE_DIR)")
    group.addoption("--harness-limit", type=int, metavar="N", help="cap every harness_run at N examples")
    group.addoption("--harness-model", metavar="MODEL", help="run every system in harness_run on this model")


class SuiteRun:
    """A finished run: per-system, per-metric means over `ok` scores, and assertions on them."""

    def __init__(self, path: Path):
        from harness.run import RunView
        from harness.run.scores import scores_of

        self.path = Path(path)
        self.scores = scores_of(RunView.open(self.path))

    @property
    def status(self) -> str | None:
        return self.scores.status

    @property
    def systems(self) -> list[str]:
        return list(self.scores.systems)

    def metrics(self, system: str) -> list[str]:
        return self.scores.metrics(system)

    def values(self, system: str, metric: str) -> dict[str, float]:
        """Example id -> value for the `ok` scores."""
        self._require(system, metric)
        return dict(self.scores.values(system, metric))

    def mean(self, system: str, metric: str) -> float | None:
        """Mean over `ok` scores; None when the metric is undefined for every example."""
        self._require(system, metric)
        return self.scores.mean(system, metric)

    def counts(self, system: str, metric: str) -> dict[str, int]:
        self._require(system, metric)
        return self.scores.counts(system, metric)

    def assert_floor(self, metric: str, floor: float, system: str = "*") -> None:
        assert_floor(self, metric, floor, system)

    def _require(self, system: str, metric: str) -> None:
        if system not in self.scores.systems:
            raise KeyError(f"no system {system!r} in {self.path} (systems: {', '.join(self.systems)})")
        if metric not in self.scores.metrics(system):
            raise KeyError(f"no metric {metric!r} for {system!r} (metrics: {', '.join(self.metrics(system))})")

    def __repr__(self) -> str:
        return f"SuiteRun({str(self.path)!r}, status={self.status!r})"


def assert_floor(run: SuiteRun, metric: str, floor: float, system: str = "*") -> None:
    """Fail naming every matching system whose mean is below `floor` (or has no ok scores).

    For lower-is-better metrics (latency, cost) use `assert_ceiling`.
    """
    _assert_bound(run, metric, floor, system, below=True)


def assert_ceiling(run: SuiteRun, metric: str, ceiling: float, system: str = "*") -> None:
    """Fail naming every matching system whose mean is above `ceiling` (or has no ok scores)."""
    _assert_bound(run, metric, ceiling, system, below=False)


def _assert_bound(run: SuiteRun, metric: str, bound: float, system: str, *, below: bool) -> None:
    matched = [s for s in run.systems if fnmatchcase(s, system) and metric in run.metrics(s)]
    if not matched:
        raise AssertionError(f"no system matching {system!r} has metric {metric!r} in {run.path}")
    bad = []
    for name in matched:
        mean, counts = run.scores.mean(name, metric), run.scores.counts(name, metric)
        if mean is None:
            if counts["error"]:
                bad.append(f"{name}: no ok scores ({counts['error']} errors)")
        elif (mean < bound) if below else (mean > bound):
            bad.append(f"{name}: {mean:.4g} (n={counts['ok']})")
    if bad:
        word = "below the floor" if below else "above the ceiling"
        raise AssertionError(f"{metric} {word} {bound:g}: " + "; ".join(bad))


def load_run(path: str | Path) -> SuiteRun:
    """Open an existing run directory (made by `harness run`) for assertions."""
    return SuiteRun(Path(path))


class HarnessRunner:
    """The `harness_run` fixture's value: call it with a suite path to run (or reuse) a run."""

    def __init__(self, config: pytest.Config, tmp: pytest.TempPathFactory):
        self._config = config
        self._tmp = tmp
        self._done: dict[tuple[Any, ...], SuiteRun] = {}

    def __call__(
        self,
        suite: str | Path,
        *,
        limit: int | None = None,
        systems: list[str] | None = None,
        model: str | None = None,
        use_cache: bool = True,
    ) -> SuiteRun:
        from harness.engine.launch import start_run
        from harness.engine.plan import RunOptions

        path = self._find(suite)
        limit = limit or self._config.getoption("harness_limit", None)
        model = model or self._config.getoption("harness_model", None)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = (str(path), digest, limit, tuple(systems or ()), model, use_cache)
        if key not in self._done:
            cache_dir = self._config.getoption("harness_cache_dir", None) or os.environ.get("HARNESS_CACHE_DIR")
            options = RunOptions(
                out=self._tmp.mktemp(f"harness-{path.stem}") / "run",
                limit=limit,
                systems=list(systems) if systems else None,
                use_cache=use_cache,
                model=model,
                cache_dir=Path(cache_dir) if cache_dir else None,
                progress=False,
            )
            outcome = start_run(path, options)
            if outcome.header.status != "complete":
                raise RuntimeError(f"harness run of {path} ended {outcome.header.status}: {outcome.path}")
            if reasons := outcome.header.unusable():
                raise RuntimeError(f"harness run of {path} is unusable ({outcome.path}): " + "; ".join(reasons))
            self._done[key] = SuiteRun(outcome.path)
        return self._done[key]

    def _find(self, suite: str | Path) -> Path:
        path = Path(suite)
        for candidate in (path, self._config.rootpath / path):
            if candidate.is_file():
                return candidate.resolve()
        raise FileNotFoundError(f"suite file not found: {suite} (looked in the current folder and {self._config.rootpath})")


@pytest.fixture(scope="session")
def harness_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> HarnessRunner:
    """Run a suite (once per session per suite and options) and return a SuiteRun to assert on."""
    return HarnessRunner(request.config, tmp_path_factory)
