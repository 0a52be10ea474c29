"""Merging a task's branch into its base branch without disturbing the user's checkout."""

from __future__ import annotations

from pathlib import Path

from claudeserver.domain.workspace.errors import MergeConflict, WorkspaceError
from claudeserver.domain.workspace.git import branch_exists, commit_of, identity_env, run
from claudeserver.domain.workspace.model import MergeResult, Workspace
from claudeserver.domain.workspace.worktree import missing_branch_message


def merge(
    repo: Path,
    ws: Workspace,
    *,
    author_name: str,
    author_email: str,
    message: str | None = None,
) -> MergeResult:
    """Merge the task's committed branch into its base branch: fast-forward, else a merge commit.

    The result is computed in the object store (`git merge-tree`), so a conflict raises
    MergeConflict before anything changed. The base branch then moves by a compare-and-swap
    `update-ref`; only when the base branch is checked out (in the user's checkout or another
    worktree) is that checkout fast-forwarded, and only if it has no uncommitted changes.
    """
    if ws.kind != "worktree" or ws.branch is None or ws.base_branch is None:
        raise WorkspaceError("only a worktree workspace has a branch to merge")
    for branch in (ws.branch, ws.base_branch):
        if not branch_exists(repo, branch):
            raise WorkspaceError(missing_branch_message(repo, branch))
    base_ref = f"refs/heads/{ws.base_branch}"
    base_tip = commit_of(repo, base_ref)
    task_tip = commit_of(repo, f"refs/heads/{ws.branch}")
    if _is_ancestor(repo, task_tip, base_tip):
        return MergeResult(fast_forward=True, commit=base_tip, up_to_date=True)
    checkout = checked_out_in(repo, base_ref)
    if checkout is not None:
        _require_clean(checkout, ws.base_branch)
    if _is_ancestor(repo, base_tip, task_tip):
        new, fast_forward = task_tip, True
    else:
        tree = _merge_tree(repo, base_tip, task_tip, branch=ws.branch, base=ws.base_branch)
        text = message or f"Merge branch '{ws.branch}' into {ws.base_branch}"
        new = run(
            ["commit-tree", tree, "-p", base_tip, "-p", task_tip, "-m", text],
            cwd=repo,
            env=identity_env(author_name, author_email),
        ).stdout.strip()
        fast_forward = False
    if checkout is None:
        # Fails, changing nothing, if the base branch moved since we read it.
        reason = f"claudeserver: merge {ws.branch}"
        run(["update-ref", "-m", reason, base_ref, new, base_tip], cwd=repo)
    else:
        # Updates HEAD, index and files together; refuses without changes if it would
        # overwrite an untracked file or the branch moved since we read it.
        run(["merge", "--ff-only", "--quiet", new], cwd=checkout)
    return MergeResult(fast_forward=fast_forward, commit=new)


def checked_out_in(repo: Path, ref: str) -> Path | None:
    """The worktree (the user's checkout included) that has `ref` checked out, if any."""
    out = run(["worktree", "list", "--porcelain", "-z"], cwd=repo).stdout
    for block in out.split("\0\0"):
        fields = {key: value for key, _, value in (f.partition(" ") for f in block.split("\0"))}
        # A prunable worktree's directory is gone; nothing there can be disturbed.
        if fields.get("branch") == ref and "prunable" not in fields and "worktree" in fields:
            return Path(fields["worktree"])
    return None


def _require_clean(checkout: Path, branch: str) -> None:
    # Untracked files do not count: they are not part of the merge, and `merge --ff-only`
    # refuses on its own if the merge would overwrite one.
    status = run(["status", "--porcelain", "--untracked-files=no"], cwd=checkout).stdout
    if status.strip():
        raise WorkspaceError(
            f"cannot merge into {branch}: it is checked out in {checkout}, which has "
            "uncommitted changes; commit or stash them first, or merge into a branch that is "
            "not checked out"
        )


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return run(["merge-base", "--is-ancestor", older, newer], cwd=repo, ok=(0, 1)).code == 0


def _merge_tree(repo: Path, base_tip: str, task_tip: str, *, branch: str, base: str) -> str:
    """The merged tree's id; MergeConflict naming the files when it does not merge cleanly."""
    out = run(
        ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base_tip, task_tip],
        cwd=repo,
        ok=(0, 1),
    )
    tree, *names = out.stdout.split("\0")
    if out.code == 1:
        raise MergeConflict(list(dict.fromkeys(n for n in names if n)), branch=branch, base=base)
    return tree
