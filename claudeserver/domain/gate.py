"""Consults the permission policy for one tool call, failing closed."""

from __future__ import annotations

import asyncio
from typing import Any

from claudeserver.domain.policy import Decision, PolicyConfig, decide

POLICY_TIMEOUT_SECONDS = 5.0


async def check(tool_name: str, tool_input: dict[str, Any], config: PolicyConfig) -> Decision:
    """An error or a slow decision is a deny, never an allow."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(decide, tool_name, tool_input, config), POLICY_TIMEOUT_SECONDS
        )
    except asyncio.TimeoutError:
        return Decision(False, "denied: the policy check timed out", "internal_error")
    except Exception as exc:
        return Decision(False, f"denied: the policy check failed ({exc})", "internal_error")
