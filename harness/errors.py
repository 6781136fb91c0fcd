"""Errors the user can act on. The CLI turns them into a message and exit code 2."""

from __future__ import annotations


class HarnessError(Exception):
    """Bad input or set-up: the message says what is wrong and where."""

    def __init__(self, message: str, *, where: str | None = None, problems: list[str] | None = None):
        self.where = where
        self.problems = problems or []
        super().__init__(message)

    def __str__(self) -> str:
        head = f"{self.where}: {self.args[0]}" if self.where else str(self.args[0])
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class SuiteError(HarnessError):
    """The suite file is missing, malformed or invalid."""


class DatasetError(HarnessError):
    """The dataset could not be read or is unusable (empty, duplicate ids, missing fields)."""


class ConfigError(HarnessError):
    """A system, metric or model is configured in a way that cannot run."""
