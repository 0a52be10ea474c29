"""Permission policy deciding which tool calls the unattended agent may make."""

from .engine import decide
from .model import Decision, PolicyConfig
from .options import PolicyOptions

__all__ = ["Decision", "PolicyConfig", "PolicyOptions", "decide"]
