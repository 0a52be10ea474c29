"""A task's own `git worktree` on a new branch, and committing what the task changed."""

from __future__ import annotations

import re
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.git import (
    branch_exists,
    branches,
    commit_of,
    git_env,
    identity_env,
    is_git_repo,
    run,
    toplevel,
)
from claudeserver.domain.workspace.model import Workspace
from claudeserver.domain.workspace.repo_lock import worktree_lock
from claudeserver.domain.workspace.untrusted import WorktreeGit, check_git_pointer, code_off

BRANCH_PREFIX = "claudeserver/"
SUBJECT_LIMIT = 72
_SHORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def short_id(task_id: str) -> str:
    """The first 8 characters of the task id; they name the branch and the directory."""
    short = task_id[:8]
    if not _SHORT_ID.fullmatch(short):
        raise WorkspaceError(f"task id {task_id!r} cannot name a branch or directory")
    return short


def create_worktree(repo: Path, *, task_id: str, base_branch: str, root: Path) -> Workspace:
    """Check out `base_branch` into a new worktree under `root` on branch claudeserver/<id>.

    Only the repository's ref and worktree bookkeeping change; the user's working tree,
    index and HEAD are left alone, dirty or detached.
    """
    if not is_git_repo(repo):
        raise WorkspaceError(f"{repo} is not inside a git repository")
    top = toplevel(repo)
    prefix = run(["rev-parse", "--show-prefix"], cwd=repo).stdout.strip()
    short = short_id(task_id)
    if not branch_exists(top, base_branch):
        raise WorkspaceError(missing_branch_message(top, base_branch))
    branch = BRANCH_PREFIX + short
    if branch_exists(top, branch):
        raise WorkspaceError(
            f"branch {branch} already exists in {top}; reuse that task's workspace or "
            "delete the branch"
        )
    root.mkdir(parents=True, exist_ok=True)
    target = root.resolve() / f"{top.name}-{short}"
    if target.exists():
        raise WorkspaceError(f"workspace directory {target} already exists")
    # The commit, not the branch name, is checked out so `base_commit` is exactly what the
    # worktree started from even if the base branch moves meanwhile.
    base_commit = commit_of(top, f"refs/heads/{base_branch}")
    # The checkout runs no filter (git-lfs's smudge included) and no hook: the server's
    # git on the worktree never will either (see untrusted.py), so what is checked out is
    # what a commit stores back.
    options = code_off(cwd=top, env=git_env())
    add = ["worktree", "add", "--quiet", "-b", branch, str(target), base_commit]
    workspace = Workspace(
        kind="worktree",
        path=target / prefix if prefix else target,
        worktree=target,
        branch=branch,
        base_branch=base_branch,
        base_commit=base_commit,
    )
    with worktree_lock(top):
        # A worktree directory someone deleted stays registered until pruned and blocks
        # reuse.
        run(["worktree", "prune"], cwd=top)
        run(add, cwd=top, options=options)
        if not workspace.path.is_dir():
            # The project is a folder the base branch does not contain (e.g. untracked).
            run(["worktree", "remove", "--force", str(target)], cwd=top)
            run(["branch", "-D", branch], cwd=top)
            raise WorkspaceError(f"branch {base_branch} has no folder {prefix.rstrip('/')}")
    return workspace


def missing_branch_message(repo: Path, branch: str) -> str:
    existing = branches(repo)
    if not existing:
        return f"base branch {branch!r} does not exist; the repository has no branches yet"
    return f"base branch {branch!r} does not exist; branches: {', '.join(existing)}"


def require(ws: Workspace) -> Path:
    """The directory a workspace lives in; a clear error when it was deleted under the task
    or when its git pointer no longer leads where the server made it."""
    where = ws.worktree if ws.kind == "worktree" else ws.snapshot
    if where is None or not where.is_dir():
        raise WorkspaceError(f"workspace {where or ws.path} no longer exists")
    if ws.kind == "worktree":
        check_git_pointer(where)
    return where


def commit_all(ws: Workspace, *, message: str, author_name: str, author_email: str) -> str | None:
    """Commit everything in the worktree on the task's branch; None when nothing changed.

    A snapshot workspace has nothing to commit: the task changed the project in place.
    """
    if ws.kind != "worktree":
        return None
    git = WorktreeGit.open(require(ws))
    on = git.current_branch()
    if on != ws.branch:
        # The agent switched branches; committing here would put the work somewhere merge
        # never looks.
        raise WorkspaceError(
            f"workspace {git.top} is on {on or 'a detached HEAD'}, not {ws.branch}"
        )
    git.run(["add", "-A"])
    if git.run(["diff", "--cached", "--quiet"], ok=(0, 1), confined=False).code == 0:
        return None
    git.run(
        # `whitespace` keeps lines starting with '#', which the default cleanup would drop.
        ["commit", "--quiet", "--no-verify", "--cleanup=whitespace", "-m", message],
        env=identity_env(author_name, author_email),
    )
    return git.run(["rev-parse", "--verify", "HEAD^{commit}"], confined=False).stdout.strip()


def commit_message(description: str) -> str:
    """A subject of at most 72 characters from the first line; the full text as the body."""
    text = description.strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return "claudeserver task"
    subject = first
    if len(subject) > SUBJECT_LIMIT:
        cut = subject[: SUBJECT_LIMIT - 3]
        # Break at a word when that does not lose most of the line.
        if " " in cut[SUBJECT_LIMIT // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        subject = cut.rstrip() + "..."
    return subject if text == subject else f"{subject}\n\n{text}"
