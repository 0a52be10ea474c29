"""The command-line client of the HTTP API: `claudeserver submit|tasks|show|logs|cancel|...`.

The server's own CLI (claudeserver/cli.py) adds these with `add_commands` and runs
them with `dispatch`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8000"
STATUSES = ("pending", "running", "paused", "testing", "completed", "failed", "cancelled")


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--server",
        default=os.environ.get("CLAUDESERVER_URL", DEFAULT_URL),
        help="server URL (env CLAUDESERVER_URL, default %(default)s); the token is read "
        "from CLAUDESERVER_TOKEN, else for a server on this machine from its TOKEN_FILE "
        "(default ~/.claudeserver/token)",
    )

    submit = subparsers.add_parser("submit", parents=[common], help="submit a task")
    submit.add_argument("project_path", help="the project directory (on the server's machine)")
    submit.add_argument("description", help="what the agent should do")
    submit.add_argument("--follow", action="store_true", help="show progress until it ends")
    submit.add_argument("--model", help="Claude model for this task")
    submit.add_argument("--max-iterations", type=int, help="agent turns allowed")
    submit.add_argument("--max-budget-usd", type=float, help="spend limit in USD")
    submit.add_argument("--test-command", help="command that runs the project's tests")
    submit.add_argument(
        "--approvals", choices=("auto", "human"),
        help="who answers the calls the policy asks about (default: the session's)",
    )  # fmt: skip
    _handle(submit, "submit")

    tasks = subparsers.add_parser("tasks", parents=[common], help="list tasks, newest first")
    tasks.add_argument("--status", choices=STATUSES)
    tasks.add_argument("--session", help="only this session's tasks")
    tasks.add_argument("--limit", type=int, default=50)
    tasks.add_argument("--json", action="store_true", help="print the tasks as JSON")
    _handle(tasks, "tasks")

    sessions = subparsers.add_parser("sessions", parents=[common], help="list sessions")
    sessions.add_argument("--json", action="store_true", help="print the sessions as JSON")
    _handle(sessions, "sessions")

    show = subparsers.add_parser("show", parents=[common], help="a task's details and tests")
    show.add_argument("task_id")
    show.add_argument("--json", action="store_true", help="print the API's JSON")
    _handle(show, "show")

    logs = subparsers.add_parser("logs", parents=[common], help="a task's interactions")
    logs.add_argument("task_id")
    logs.add_argument("--follow", action="store_true", help="keep printing until it ends")
    logs.add_argument("--json", action="store_true", help="one JSON object per line")
    _handle(logs, "logs")

    cancel = subparsers.add_parser("cancel", parents=[common], help="cancel a task")
    cancel.add_argument("task_id")
    _handle(cancel, "cancel")

    follow_up = subparsers.add_parser(
        "follow-up", parents=[common], help="continue a finished task with a new request"
    )
    follow_up.add_argument("task_id")
    follow_up.add_argument("request", help="what the agent should do next")
    follow_up.add_argument("--follow", action="store_true", help="show progress until it ends")
    _handle(follow_up, "follow_up")

    comment = subparsers.add_parser(
        "comment", parents=[common], help="comment on a line of a task's diff"
    )
    comment.add_argument("task_id")
    comment.add_argument("where", metavar="FILE:LINE", help="a file of the diff and a line of it")
    comment.add_argument("body", help="what the agent should change there")
    comment.add_argument(
        "--old", action="store_true", help="LINE is a line of the file before the task"
    )
    _handle(comment, "comment")

    comments = subparsers.add_parser("comments", parents=[common], help="a task's review comments")
    comments.add_argument("task_id")
    comments.add_argument("--json", action="store_true", help="print the API's JSON")
    _handle(comments, "comments")

    send_comments = subparsers.add_parser(
        "send-comments", parents=[common],
        help="send a finished task's unresolved comments to the agent as one round",
    )  # fmt: skip
    send_comments.add_argument("task_id")
    send_comments.add_argument("--follow", action="store_true", help="show progress until it ends")
    _handle(send_comments, "send_comments")

    delete = subparsers.add_parser(
        "delete", parents=[common], help="delete a finished task and its workspace"
    )
    delete.add_argument("task_id")
    delete.add_argument("--branch", action="store_true", help="also delete the task's branch")
    _handle(delete, "delete")

    delete_session = subparsers.add_parser(
        "delete-session", parents=[common], help="delete a session and all its finished tasks"
    )
    delete_session.add_argument("session_id")
    _handle(delete_session, "delete_session")

    approvals = subparsers.add_parser(
        "approvals", parents=[common], help="calls held for a person's approval, newest first"
    )
    approvals.add_argument(
        "--status", default="pending", choices=("pending", "allowed", "denied", "expired", "all")
    )
    approvals.add_argument("--task", help="only this task's approvals")
    approvals.add_argument("--json", action="store_true", help="print the approvals as JSON")
    _handle(approvals, "approvals")

    for verb, text in (("approve", "allow a held call"), ("deny", "deny a held call")):
        answer = subparsers.add_parser(verb, parents=[common], help=text)
        answer.add_argument("approval_id")
        answer.add_argument("--reason", help="told to the agent")
        answer.add_argument(
            "--remember", action="store_true", help="add a rule to the session: not asked again"
        )
        _handle(answer, verb)


def _handle(parser: argparse.ArgumentParser, command: str) -> None:
    # Stored on the namespace so dispatch works whatever `dest` the main parser uses.
    parser.set_defaults(client_command=command)


def dispatch(args: argparse.Namespace) -> int | None:
    """Run a client command; None when `args` is not one of them."""
    command: str | None = getattr(args, "client_command", None)
    if command is None:
        return None
    # Imported only here: `claudeserver serve` starts faster without the HTTP client.
    from claudeserver.client import commands
    from claudeserver.client.http import Api, ClientError

    handler = getattr(commands, command)
    try:
        with Api(args.server, token_for(args.server)) as api:
            return int(handler(api, args, sys.stdout))
    except ClientError as exc:
        print(f"claudeserver: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def token_for(server: str) -> str | None:
    """CLAUDESERVER_TOKEN, else the token a server on this machine generated for itself.

    The file is read for loopback URLs only: its token must not be sent to another host.
    """
    from claudeserver import token_file
    from claudeserver.api.security import is_loopback

    if os.environ.get("CLAUDESERVER_TOKEN"):
        return os.environ["CLAUDESERVER_TOKEN"]
    if not is_loopback(urlsplit(server).hostname or ""):
        return None
    return token_file.read(Path(os.environ.get("TOKEN_FILE") or token_file.default_path()))
