"""Consults the permission policy for one tool call, failing closed."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

from claudeserver.policy import Decision, PolicyConfig, decide

POLICY_TIMEOUT_SECONDS = 5.0


async def check(
    tool_name: str, tool_input: dict[str, Any], config: PolicyConfig, *, cwd: Path | None = None
) -> Decision:
    """Judge the call as run in `cwd` (the project when None). An error or a slow decision
    is a deny, never an allow."""
    judge = functools.partial(decide, tool_name, tool_input, config, cwd=cwd)
    try:
        return await asyncio.wait_for(asyncio.to_thread(judge), POLICY_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return Decision(False, "denied: the policy check timed out", "internal_error")
    except Exception as exc:
        return Decision(False, f"denied: the policy check failed ({exc})", "internal_error")
