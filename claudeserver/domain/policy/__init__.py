"""Permission policy deciding which tool calls the unattended agent may make."""

from .engine import decide
from .model import Decision, PolicyConfig

__all__ = ["Decision", "PolicyConfig", "decide"]
