"""The one interface every system under test implements, and the table YAML names kinds from.

Implementations live in the top-level `adapters` package; a third-party package can add kinds
by registering them under the `harness.systems` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from harness.registry import Registry
from harness.types import Example, Response

if TYPE_CHECKING:
    from harness.gateway import Gateway
    from harness.suite.model import Suite


@dataclass(frozen=True)
class Artifacts:
    """What a system built for a run (a trained LoRA): `recorded` joins the system's config in
    run.json (it is part of what ran, so a change shows in compare and gate); `files` are local
    paths, recorded apart so baselines stay portable."""

    recorded: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class System(Protocol):
    """Turns one example into one response. Failures may raise: the runner records them.

    Only `respond` is required; built-in kinds subclass this protocol to inherit the defaults of
    the optional hooks, and a plug-in that does not is given them by `as_system`.
    """

    warnings: Sequence[str] = ()
    """Problems found while building the system that do not stop the run (counts included)."""

    async def respond(self, example: Example) -> Response: ...

    async def setup(self) -> None:
        """Slow one-off work (an index, a training run), awaited once before the first sample."""

    def artifacts(self) -> Artifacts | None:
        """What `setup` built, if anything; None for most systems."""
        return None

    def with_corpus(self, context: "SystemContext") -> "System | None":
        """A twin that reads the corpus of `context` (a knowledge update) with what `setup` already
        trained kept (a LoRA is not retrained); its own `setup` builds the new index. Called after
        `setup`. None: this system reads no corpus, so it runs unchanged on the update."""
        return None


class _Defaults(System):
    """A plug-in system that does not subclass `System`: the hooks it has are used, the rest
    default. The only place hooks are looked up by name."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.warnings = list(getattr(inner, "warnings", ()))

    async def respond(self, example: Example) -> Response:
        return await self.inner.respond(example)

    async def setup(self) -> None:
        if (hook := getattr(self.inner, "setup", None)) is not None:
            await hook()

    def artifacts(self) -> Artifacts | None:
        hook = getattr(self.inner, "artifacts", None)
        return hook() if hook is not None else None

    def with_corpus(self, context: "SystemContext") -> System | None:
        hook = getattr(self.inner, "with_corpus", None)
        twin = hook(context) if hook is not None else None
        return None if twin is None else as_system(twin)


def as_system(system: Any) -> System:
    """The system itself when it has every hook, else a wrapper that adds the defaults."""
    return system if isinstance(system, System) else _Defaults(system)


class SystemConfig(BaseModel):
    """Fields every system kind has. Subclasses narrow `kind` to a Literal."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    description: str | None = None


class UsesModel(BaseModel):
    """Mixin for kinds that call a model; `harness run --model` replaces this field."""

    model: str = Field(..., min_length=1, description="litellm model name, e.g. openai/gpt-4o-mini")


@dataclass
class SystemContext:
    """What a system may use at build time. Built once per run by the runner."""

    name: str
    suite: "Suite"
    gateway: "Gateway"
    train: Sequence[Example]
    test: Sequence[Example]
    cache_dir: Path
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.suite.base_dir

    def where(self, *path: str) -> str:
        return ".".join(["systems", self.name, *path])


SystemFactory = Callable[[Any, SystemContext], System]
SYSTEM_KINDS: Registry[SystemFactory] = Registry(
    "system kind", builtin="adapters", entry_point_group="harness.systems"
)


def system_kind(name: str, config: type[SystemConfig]) -> Callable[[SystemFactory], SystemFactory]:
    """Register a factory `(config, context) -> System` under `kind: name`."""
    return SYSTEM_KINDS.register(name, config)


def load_system_kinds() -> Registry[SystemFactory]:
    """The built-in adapters and any installed plug-ins."""
    return SYSTEM_KINDS.loaded()
