"""Every model call goes through here (litellm underneath), so any provider is one model name away."""

from harness.gateway.gateway import Gateway, ModelCallError
from harness.gateway.request import GenerationParams, ModelReply, ModelRequest

__all__ = ["Gateway", "GenerationParams", "ModelCallError", "ModelReply", "ModelRequest"]
