"""Request and response bodies of approvals (routes/approvals.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from claudeserver.api.schemas import RequestBody


class ApprovalAnswer(RequestBody):
    decision: Literal["allow", "deny"]
    reason: str | None = Field(None, max_length=10_000, description="told to the agent")
    remember: bool = Field(
        False, description="add a rule for this call to the session's policy: not asked again"
    )


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    task_id: str
    session_id: str
    tool: str
    input_summary: str = Field(description="the command, URL or path (secrets redacted)")
    category: str = Field(description="network, push, install, mass_delete or ask_rule")
    question: str = Field(description="why the policy asks")
    unattended: Literal["allow", "deny"] = Field(
        description="the policy's answer when nobody answers (the simulated human's)"
    )
    rules: list[str] = Field(description="the rules `remember` adds")
    status: Literal["pending", "allowed", "denied", "expired"]
    decided_by: str | None = Field(description="user or simulated_human")
    reason: str | None
    remember: bool
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None = Field(
        description="while pending: when the simulated human answers instead"
    )
