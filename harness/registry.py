"""Name -> implementation tables, so a suite file can name a system kind or a metric type."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    config: type[BaseModel]
    factory: T


class Registry(Generic[T]):
    """A small named table with a decorator; `what` is used in error messages."""

    def __init__(self, what: str, *, builtin: str, entry_point_group: str):
        self.what = what
        self._entries: dict[str, Entry[T]] = {}
        self._builtin = builtin
        self._group = entry_point_group
        self._loaded = False

    def loaded(self) -> "Registry[T]":
        """Import the built-in module and installed plug-ins (entry points) once; both register."""
        if not self._loaded:
            import importlib

            importlib.import_module(self._builtin)
            for entry in installed_entry_points().select(group=self._group):
                _load_plugin(entry, self.what)
            self._loaded = True
        return self

    def register(self, name: str, config: type[BaseModel]) -> Callable[[T], T]:
        def decorate(factory: T) -> T:
            if name in self._entries and self._entries[name].factory is not factory:
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._entries[name] = Entry(name, config, factory)
            return factory

        return decorate

    def get(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            from harness.errors import ConfigError

            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"unknown {self.what} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: Any) -> bool:
        return name in self._entries


def _load_plugin(entry: Any, what: str) -> None:
    """Import an installed plug-in; one that fails (`sys.exit()` at import included) is a
    ConfigError naming it, never a traceback or a silent exit 0."""
    try:
        entry.load()
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - third-party code may fail in any way
        from harness.errors import ConfigError

        raise ConfigError(
            f"cannot load the {what} plug-in {entry.name!r} ({entry.value}): {type(error).__name__}: {error}",
            where=f"entry point group {entry.group}",
        ) from None


@lru_cache(maxsize=1)
def installed_entry_points() -> Any:
    """Every installed package's entry points, read once: each read scans every package's
    metadata, which takes longer the more packages are installed, and each registry needs it."""
    from importlib.metadata import entry_points

    return entry_points()
