"""Projects that live in a repository URL: a local clone to work from, and pushing back."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.git import run

_SCHEME = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:|^/")


def check_url(url: str) -> str:
    """Only URL forms git treats as remotes; never an option (a leading '-')."""
    if url.startswith("-") or not _SCHEME.match(url):
        raise WorkspaceError(
            f"repo_url {url!r} is not a git URL (https://, ssh://, git@host:path, file:// "
            "or an absolute path)"
        )
    return url


def clone_path(url: str, root: Path) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", url.rstrip("/").rsplit("/", 1)[-1])[:40] or "repo"
    return root / "repos" / f"{name.removesuffix('.git')}-{digest}"


def sync_clone(url: str, root: Path) -> Path:
    """Clone `url` once under `root`, then keep every branch equal to the remote's.

    The clone keeps a detached HEAD so that fetching into refs/heads never collides with
    a checked-out branch; tasks work in worktrees made from its branches.
    """
    target = clone_path(check_url(url), root)
    if not (target / ".git").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        run(["clone", "--quiet", "--no-checkout", "--", url, str(target)], cwd=target.parent)
        # Detach HEAD without checking files out: no branch may be checked out here.
        head = run(["rev-parse", "--verify", "--quiet", "HEAD"], cwd=target, ok=(0, 1))
        if head.code == 0:
            run(["update-ref", "--no-deref", "HEAD", head.stdout.strip()], cwd=target)
    run(["fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*"], cwd=target)
    return target


def default_branch(clone: Path) -> str | None:
    """The remote's default branch, as recorded when it was cloned."""
    out = run(["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"], cwd=clone,
              ok=(0, 1))  # fmt: skip
    if out.code != 0:
        return None
    return out.stdout.strip().removeprefix("origin/") or None


def push_branch(clone: Path, branch: str) -> None:
    """Deliver a task's branch to the repository the session came from."""
    run(["push", "--quiet", "origin", f"refs/heads/{branch}:refs/heads/{branch}"], cwd=clone)
