"""A user's checkout and a task's worktree of it, as the server makes one."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def commit_all(checkout: Path) -> None:
    """Make `checkout` a repository with everything in it committed."""
    git(checkout, "init", "--quiet", "--initial-branch=main")
    git(checkout, "add", "-A")
    git(checkout, "commit", "--quiet", "-m", "start")


def add_worktree(checkout: Path, worktree: Path) -> Path:
    """A task's worktree: the committed files only, no ignored directories."""
    git(checkout, "worktree", "add", "--quiet", "-b", "task", str(worktree))
    return worktree


def changes(worktree: Path) -> list[str]:
    """What `git status` shows, as the server's commit would take it."""
    return git(worktree, "status", "--porcelain", "--untracked-files=all").splitlines()
