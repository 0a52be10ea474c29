"""A round of review comments: every unresolved comment sent to the agent as one follow-up
(same workspace and conversation, tests again, a commit), and once that round completes,
the comments whose lines it changed marked addressed.

Blocking (git, file reads): call from a thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import lifecycle
from claudeserver.domain.comments.crud import current_diff, where
from claudeserver.domain.comments.lines import (
    FileDiff,
    anchor_of,
    file_excerpt,
    hunk_excerpt,
    moved,
    opcodes,
    relocate,
    split_lines,
    touched,
)
from claudeserver.domain.executor import Executor
from claudeserver.domain.task_workspace import present
from claudeserver.domain.workspace import Workspace, read_text
from claudeserver.persistence import comments as store
from claudeserver.persistence import interactions, transactions
from claudeserver.persistence.models import ReviewComment, Task, utcnow
from claudeserver.vocabulary import Kind, Role, TaskStatus


@dataclass(frozen=True)
class Planned:
    """A comment as it goes into the round: where it is now and what the agent is shown."""

    comment: ReviewComment
    line: int
    excerpt: str | None  # the code around it: numbered lines, or diff lines (side "old")
    sent_text: str | None  # the file as it is now, to tell later what the round changed
    anchor: tuple[int, int] | None  # its lines in `sent_text`


def send(db: DB, factory: sessionmaker[DB], executor: Executor | None, *, task_id: str) -> Task:
    """Every unresolved comment of a finished task, in one follow-up round.

    NotNow while the task has not finished, when it has no unresolved comment, or when
    its workspace is gone.
    """
    task = lifecycle.get(db, task_id)
    if not TaskStatus(task.status).is_terminal:
        raise lifecycle.NotNow(
            f"task {task_id} is {task.status}: send the comments once it has finished"
        )
    rows = store.list_comments(db, task_id=task_id, unresolved=True)
    if not rows:
        raise lifecycle.NotNow(f"task {task_id} has no unresolved comments to send")
    workspace = present(task)
    diff = current_diff(workspace)
    texts = {file: read_text(workspace, file) for file in {row.file for row in rows}}
    planned = [_plan(row, diff.get(row.file), texts[row.file]) for row in rows]
    with transactions.unit_of_work(factory) as unit:
        queued = lifecycle.follow_up(unit, None, task_id=task_id, request=round_prompt(planned))
        now = utcnow()
        for plan in planned:
            row = unit.get(ReviewComment, plan.comment.id)
            if row is None:  # deleted meanwhile: it was in the prompt, nothing to check
                continue
            store.mark_sent(
                unit, row, attempt=queued.attempt, at=now, line=plan.line,
                sent_text=plan.sent_text, anchor=plan.anchor,
            )  # fmt: skip
        count = len(planned)
        interactions.add_interaction(
            unit, task_id=task_id, role=Role.USER, kind=Kind.COMMENT,
            content=f"{count} {_comments(count)} sent to the agent",
            data={"action": "sent", "comment_ids": [p.comment.id for p in planned]},
        )  # fmt: skip
    db.expire_all()
    # Read before the executor hears of it: the answer shows the task as queued.
    task = lifecycle.get(db, task_id)
    if executor is not None:
        executor.submit(task_id)
    return task


def _plan(row: ReviewComment, changed: FileDiff | None, text: str | None) -> Planned:
    if row.side == "old":
        found = changed.find("old", row.line) if changed else None
        if found is None:  # the removed line is back, or its file unchanged since
            return Planned(row, row.line, None, text, None)
        hunk, index = found
        anchor = anchor_of(hunk[index]) if text is not None else None
        return Planned(row, row.line, hunk_excerpt(hunk, index), text, anchor)
    if text is None:  # the file is gone: nothing to quote or compare
        return Planned(row, row.line, None, None, None)
    lines = split_lines(text)
    line = relocate(lines, row.line, row.line_text)
    if not 1 <= line <= len(lines):
        return Planned(row, line, None, text, None)
    return Planned(row, line, file_excerpt(lines, line), text, (line - 1, line))


def round_prompt(planned: list[Planned]) -> str:
    """The follow-up request: each comment with its file, line and the code around it."""
    count = len(planned)
    parts = [
        f"The user reviewed your change and left {count} {_comments(count)} on its diff. "
        "Address each one in the code."
    ]
    for number, plan in enumerate(planned, 1):
        row = plan.comment
        if row.side == "old":
            heading = f"{row.file}, line {row.line} of the file before your change (removed)"
            language = "diff"
        else:
            heading = f"{row.file}, line {plan.line}"
            language = ""
        parts.append(f"### Comment {number}: {heading}")
        if plan.excerpt is not None:
            fence = _fence(plan.excerpt)
            parts.append(f"{fence}{language}\n{plan.excerpt}\n{fence}")
        parts.append("\n".join(f"> {line}" for line in row.body.splitlines() or [""]))
    return "\n\n".join(parts)


def settle(factory: sessionmaker[DB], *, task_id: str, workspace: Workspace) -> None:
    """The round completed: comments whose lines it changed are addressed (and resolved);
    the others stay open, moved to where their lines are now."""
    with factory() as db:
        rows = store.list_comments(db, task_id=task_id, in_round=True)
        if not rows:
            return
        texts = {file: read_text(workspace, file) for file in {row.file for row in rows}}
        addressed: list[ReviewComment] = []
        still_open: list[ReviewComment] = []
        for row in rows:
            changed, line = _judge(row, texts[row.file])
            store.settle(db, row, addressed=changed, line=line)
            (addressed if changed else still_open).append(row)
        interactions.add_interaction(
            db, task_id=task_id, role=Role.SYSTEM, kind=Kind.COMMENT,
            content=_settled(addressed, still_open),
            data={"action": "addressed", "addressed": [r.id for r in addressed],
                  "open": [r.id for r in still_open]},
        )  # fmt: skip


def _judge(row: ReviewComment, text: str | None) -> tuple[bool, int]:
    """Whether the round changed the comment's lines, and its line number afterwards."""
    if row.sent_text is None or row.anchor_start is None or row.anchor_end is None:
        return False, row.line  # nothing to compare with: the person decides
    if text is None:
        return True, row.line  # the file is gone (or no longer text)
    ops = opcodes(split_lines(row.sent_text), split_lines(text))
    if touched(ops, row.anchor_start, row.anchor_end):
        return True, row.line
    if row.side == "old":
        return False, row.line  # numbered in the file before the task, which stays
    now = moved(ops, row.anchor_start)
    return False, row.line if now is None else now + 1


def _settled(addressed: list[ReviewComment], still_open: list[ReviewComment]) -> str:
    total = len(addressed) + len(still_open)
    text = f"The agent changed the lines of {len(addressed)} of {total} {_comments(total)}"
    if addressed:
        text += f" (addressed: {', '.join(where(r) for r in addressed)})"
    if still_open:
        text += f"; still open, for you to resolve: {', '.join(where(r) for r in still_open)}"
    return text + "."


def _comments(count: int) -> str:
    return "comment" if count == 1 else "comments"


def _fence(code: str) -> str:
    """A Markdown fence longer than any run of backticks in `code`."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)
