"""Comparing runs and gating pull requests on eval regressions.

Kept import-free: `harness --help` and the suite model import submodules of this package, so
nothing heavy (numpy, yaml) may load here. See `compare`, `gate`, `baseline` and `stats`.
"""
