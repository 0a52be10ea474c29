"""The `claudeserver` command: the server (`serve`, `worker`, `doctor`, `policy check`) and a
client."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from claudeserver import client

if TYPE_CHECKING:
    from claudeserver.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="claudeserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="overrides HOST")
    serve.add_argument("--port", type=int, help="overrides PORT")
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without a token (AUTH=none; loopback HOST only): every local user and "
        "process can then run code through the server",
    )
    serve.add_argument(
        "--no-executor",
        action="store_true",
        help="serve the API only; `claudeserver worker` processes run the tasks "
        "(EXECUTOR=procrastinate)",
    )

    worker = commands.add_parser(
        "worker", help="run queued tasks (EXECUTOR=procrastinate), no HTTP server"
    )
    worker.add_argument(
        "--concurrency", type=int, help="tasks at once (default: MAX_CONCURRENT_TASKS)"
    )
    worker.add_argument(
        "--queues",
        default="tasks",
        help="comma-separated queues to take tasks from (default: tasks)",
    )

    commands.add_parser(
        "doctor", help="check the database, the Claude Code CLI, credentials and the sandbox"
    )

    demo = commands.add_parser(
        "demo", help="show the whole product in about a minute, with a scripted demo model"
    )
    demo.add_argument("--port", type=int, default=0, help="default: any free port")
    demo.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop once the task has ended instead of serving the dashboard until Ctrl-C",
    )

    policy = commands.add_parser("policy", help="permission policy tools")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser(
        "check",
        help='read {"tool","input","project","cwd"} JSON lines on stdin, print decisions',
    )

    mcp = commands.add_parser(
        "mcp", help="serve MCP over stdio for editors and agents: a bridge to a running server"
    )
    mcp.add_argument(
        "--server",
        default=os.environ.get("CLAUDESERVER_URL", client.DEFAULT_URL),
        help="server URL (env CLAUDESERVER_URL, default %(default)s); the token as for the "
        "client commands",
    )

    client.add_commands(commands)

    args = parser.parse_args(argv)
    handled = client.dispatch(args)
    if handled is not None:
        return handled
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "worker":
            return _worker(args)
        if args.command == "doctor":
            return _doctor()
        if args.command == "mcp":
            from claudeserver.mcp_server import stdio

            return stdio.run(args.server, client.token_for(args.server))
        if args.command == "demo":
            from claudeserver import demo as demo_command

            return demo_command.run(port=args.port, exit_when_done=args.exit_when_done)
        return _policy_check()
    except ValidationError as exc:
        print(f"claudeserver: invalid settings:\n{exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from claudeserver.api.app import create_app
    from claudeserver.settings import Settings
    from claudeserver.token_file import TokenFileError

    overrides: dict[str, Any] = {
        k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None
    }
    if args.insecure_no_auth:
        overrides["auth"] = "none"
    settings = Settings(**overrides)
    if args.no_executor and settings.executor != "procrastinate":
        print(
            "claudeserver: --no-executor needs EXECUTOR=procrastinate (and a PostgreSQL "
            "DATABASE_URL), so that `claudeserver worker` processes run the tasks.",
            file=sys.stderr,
        )
        return 2
    try:
        app = create_app(settings, run_worker=not args.no_executor)
    except TokenFileError as exc:
        print(f"claudeserver: {exc}", file=sys.stderr)
        return 2
    print(_login(settings), file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Open event streams must not hold a shutdown beyond a few seconds.
        timeout_graceful_shutdown=3,
        # Longer than clients keep idle connections (httpx: 5 s), so a client never reuses
        # a connection the server is just closing.
        timeout_keep_alive=30,
    )
    return 0


def _login(settings: Settings) -> str:
    """Where to open the dashboard; with a generated token, a URL that logs the browser in."""
    from claudeserver.token_file import read

    wildcard = settings.host in ("0.0.0.0", "::")
    host = "127.0.0.1" if wildcard else settings.host
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/"
    if settings.auth == "none":
        lines = [f"dashboard at {url} (AUTH=none: no token; this machine only)"]
    elif settings.tokens:
        lines = [f"dashboard at {url} (log in with one of API_TOKENS)"]
    else:
        lines = [
            f"open the dashboard at {url}?token={read(settings.token_file)}",
            f"the API token is kept in {settings.token_file}: the claudeserver command on "
            "this machine reads it there, other clients send 'Authorization: Bearer <token>'",
        ]
    if wildcard and not settings.public_hosts:
        lines.append("other machines reach this server by a name listed in ALLOWED_HOSTS only")
    return "\n".join(f"claudeserver: {line}" for line in lines)


def _worker(args: argparse.Namespace) -> int:
    from claudeserver.domain.executors.process import main as run_worker
    from claudeserver.settings import Settings

    settings = Settings()
    if settings.executor != "procrastinate":
        print(
            "claudeserver: `worker` needs EXECUTOR=procrastinate and a PostgreSQL DATABASE_URL, "
            "set the same way for the API processes.",
            file=sys.stderr,
        )
        return 2
    concurrency = args.concurrency or settings.max_concurrent_tasks
    if concurrency < 1:
        print("claudeserver: --concurrency must be at least 1", file=sys.stderr)
        return 2
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if not queues:
        print("claudeserver: --queues names no queue", file=sys.stderr)
        return 2
    return run_worker(settings, concurrency=concurrency, queues=queues)


def _doctor() -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from claudeserver.agent.locate import cli_status
    from claudeserver.domain import credentials, sandbox
    from claudeserver.persistence.db import database_status, make_engine
    from claudeserver.settings import Settings

    settings = Settings()
    url = settings.database_url
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            database = database_status(db, url)
            creds = credentials.status(db, cli_command=settings.claude_cli_command)
    except Exception as exc:  # could not even connect
        database = f"error: {type(exc).__name__}: {exc}"
        creds = credentials.status(None, cli_command=settings.claude_cli_command)
    finally:
        engine.dispose()
    shown = make_url(url).render_as_string(hide_password=True)
    checks = [
        ("database", f"{database}: {shown}"),
        ("claude cli", cli_status(settings.claude_cli_command)),
        ("credentials", creds),
    ]
    box = sandbox.describe(settings.sandbox)
    for name, result in [*checks, ("sandbox", box)]:
        print(f"{name:12} {result}")
    # Tasks fail while the sandbox cannot run, unless the operator turned it off.
    box_ok = settings.sandbox == "off" or box.startswith("ok")
    return 0 if box_ok and all(r.startswith("ok") for _, r in checks) else 1


def _policy_check() -> int:
    from pathlib import Path

    from claudeserver.policy import PolicyConfig, PolicyOptions, run_audit
    from claudeserver.settings import Settings

    defaults = PolicyOptions.from_file(Settings().policy_file)

    def config_for(project: Path) -> PolicyConfig:
        return defaults.config(project)

    for line in run_audit(sys.stdin, config_for=config_for):
        print(line, flush=True)
    return 0
