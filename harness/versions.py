"""Installed package versions, for the records that make a run or an adapter reproducible."""

from __future__ import annotations

from importlib import metadata


def package_versions(names: list[str]) -> dict[str, str]:
    """Installed versions of `names`; those not installed are left out."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
