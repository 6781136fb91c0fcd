"""Every model call goes through here (litellm underneath), so any provider is one model name away.

The names below load on first use, so a command that only needs a small part of the package
(`harness cache info`, `harness --help`) does not pay for numpy and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.gateway.gateway import Gateway, ModelCallError
    from harness.gateway.request import GenerationParams, ModelReply, ModelRequest

_WHERE = {
    "Gateway": "harness.gateway.gateway",
    "ModelCallError": "harness.gateway.gateway",
    "GenerationParams": "harness.gateway.request",
    "ModelReply": "harness.gateway.request",
    "ModelRequest": "harness.gateway.request",
}

__all__ = ["Gateway", "GenerationParams", "ModelCallError", "ModelReply", "ModelRequest"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'harness.gateway' has no attribute {name!r}")
