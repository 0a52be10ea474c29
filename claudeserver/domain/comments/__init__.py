"""Review comments on a task's diff that go back to the agent (see crud.py, rounds.py)."""

from claudeserver.domain.comments.crud import (
    CommentError,
    CommentNotFound,
    create,
    delete,
    from_finding,
    get,
    update,
)
from claudeserver.domain.comments.rounds import send, settle

__all__ = [
    "CommentError",
    "CommentNotFound",
    "create",
    "delete",
    "from_finding",
    "get",
    "send",
    "settle",
    "update",
]
