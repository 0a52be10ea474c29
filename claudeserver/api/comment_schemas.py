"""Request and response bodies of review comments (routes/comments.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from claudeserver.api.schemas import RequestBody

MAX_BODY = 20_000


def _body_text(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("body must not be blank")
    return value


class CommentCreate(RequestBody):
    """A comment on a line of the diff, or (`from_finding`) one of the review's findings."""

    file: str | None = Field(
        None, min_length=1, max_length=4096, description="a path as the task's diff names it"
    )
    line: int | None = Field(None, ge=1, le=100_000_000, description="1-based line on `side`")
    side: Literal["new", "old"] = Field(
        "new",
        description='"new": a line of the file as it is now; "old": a line the diff shows of '
        "the file before the task (e.g. one it removed)",
    )
    body: str | None = Field(None, min_length=1, max_length=MAX_BODY)
    from_finding: int | None = Field(
        None, ge=0, description="instead of the above: the index of a review finding to turn "
        "into a comment on its file and line",
    )  # fmt: skip

    _text = field_validator("body")(_body_text)

    @model_validator(mode="after")
    def _one_form(self) -> CommentCreate:
        given = [name for name in ("file", "line", "body") if getattr(self, name) is not None]
        if self.from_finding is not None and given:
            raise ValueError(f"give from_finding alone, or file, line and body; not both ({given})")
        if self.from_finding is None and len(given) < 3:
            missing = sorted({"file", "line", "body"} - set(given))
            raise ValueError(f"missing {', '.join(missing)} (or give from_finding)")
        return self


class CommentUpdate(RequestBody):
    body: str | None = Field(None, min_length=1, max_length=MAX_BODY)
    resolved: bool | None = None

    _text = field_validator("body")(_body_text)

    @model_validator(mode="after")
    def _something(self) -> CommentUpdate:
        if self.body is None and self.resolved is None:
            raise ValueError("give body, resolved or both")
        return self


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    task_id: str
    file: str
    line: int = Field(description="1-based on `side`; follows the line as rounds move it")
    side: Literal["new", "old"]
    body: str
    source: Literal["user", "review"] = Field(description='"review": made from a finding')
    resolved: bool
    addressed: bool = Field(description="a round sent it and the agent changed its line")
    in_round: bool = Field(description="sent in a round that has not completed yet")
    sent_attempt: int | None = Field(description="the attempt of the round it was last sent in")
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
