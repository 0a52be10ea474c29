"""Permission policy deciding which tool calls the unattended agent may make.

A self-contained engine (it imports nothing else of claudeserver). Its public surface is
what this module exports: `decide` a call under a `PolicyConfig` (built from
`PolicyOptions`), the audit behind `claudeserver policy check`, and the places it knows
about, which the sandboxes reuse.
"""

from .audit import run_audit
from .engine import decide
from .model import Decision, PolicyConfig
from .network import DEFAULT_FETCH_DOMAINS, proxy_refusal
from .options import PolicyOptions
from .paths import ABSOLUTE_SECRETS, HOME_SECRETS, Places, home_toolchains, places_for, within

__all__ = [
    "ABSOLUTE_SECRETS",
    "DEFAULT_FETCH_DOMAINS",
    "HOME_SECRETS",
    "Decision",
    "Places",
    "PolicyConfig",
    "PolicyOptions",
    "decide",
    "home_toolchains",
    "places_for",
    "proxy_refusal",
    "run_audit",
    "within",
]
