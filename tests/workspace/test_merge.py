"""Merging a task's branch: fast-forward, merge commit, conflicts, dirty checkouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from claudeserver.domain import workspace as ws_mod
from claudeserver.domain.workspace import MergeConflict, Workspace, WorkspaceError
from tests.workspace.conftest import AUTHOR, git, head, worktree_paths, write


def task(repo: Path, root: Path, task_id: str, files: dict[str, str]) -> Workspace:
    ws = ws_mod.create_worktree(repo, task_id=task_id, base_branch="main", root=root)
    for name, text in files.items():
        write(ws.path / name, text)
    ws_mod.commit_all(ws, message=f"task {task_id}", **AUTHOR)
    return ws


def test_fast_forward_into_the_clean_checked_out_base(repo: Path, workspaces: Path) -> None:
    ws = task(repo, workspaces, "11111111", {"a.txt": "new a\n"})
    result = ws_mod.merge(repo, ws, **AUTHOR)
    assert result.fast_forward and not result.up_to_date
    assert result.commit == head(repo) == head(repo, ws.branch or "")
    # Merged in the user's checkout: files, index and HEAD agree.
    assert (repo / "a.txt").read_text() == "new a\n"
    assert git(repo, "status", "--porcelain") == ""


def test_base_not_checked_out_moves_only_the_ref(repo: Path, workspaces: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "feature")
    write(repo / "a.txt", "user's uncommitted work\n")
    ws = task(repo, workspaces, "22222222", {"a.txt": "task's a\n"})
    result = ws_mod.merge(repo, ws, **AUTHOR)
    assert result.fast_forward
    assert head(repo, "main") == result.commit
    assert ws_mod.current_branch(repo) == "feature"
    assert (repo / "a.txt").read_text() == "user's uncommitted work\n"


def test_merge_commit_when_the_base_moved_on(repo: Path, workspaces: Path) -> None:
    first = task(repo, workspaces, "33333333", {"a.txt": "first\n"})
    second = task(repo, workspaces, "44444444", {"b.txt": "second\n"})
    ws_mod.merge(repo, first, **AUTHOR)
    result = ws_mod.merge(repo, second, **AUTHOR)
    assert not result.fast_forward
    assert result.commit == head(repo)
    parents = git(repo, "log", "-1", "--format=%P").split()
    assert parents == [head(repo, first.branch or ""), head(repo, second.branch or "")]
    assert git(repo, "log", "-1", "--format=%s|%an").strip() == (
        "Merge branch 'claudeserver/44444444' into main|Claude Server"
    )
    assert (repo / "a.txt").read_text() == "first\n"
    assert (repo / "b.txt").read_text() == "second\n"
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("checked_out", [True, False])
def test_conflict_changes_nothing(repo: Path, workspaces: Path, checked_out: bool) -> None:
    if not checked_out:
        git(repo, "checkout", "--quiet", "-b", "elsewhere")
    first = task(repo, workspaces, "55555555", {"shared.txt": "line 1\nfirst\n"})
    second = task(repo, workspaces, "66666666", {"shared.txt": "line 1\nsecond\n", "x": "x\n"})
    ws_mod.merge(repo, first, **AUTHOR)
    base_before = head(repo, "main")

    with pytest.raises(MergeConflict) as caught:
        ws_mod.merge(repo, second, **AUTHOR)
    assert caught.value.files == ["shared.txt"]
    assert "shared.txt" in str(caught.value)
    assert head(repo, "main") == base_before
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    assert sorted(worktree_paths(repo)) == sorted([str(repo), str(first.path), str(second.path)])


def test_dirty_checked_out_base_is_refused(repo: Path, workspaces: Path) -> None:
    ws = task(repo, workspaces, "77777777", {"a.txt": "task\n"})
    write(repo / "b.txt", "user is editing\n")
    before = head(repo)
    with pytest.raises(WorkspaceError, match=r"checked out in .* uncommitted changes"):
        ws_mod.merge(repo, ws, **AUTHOR)
    assert head(repo) == before
    assert (repo / "b.txt").read_text() == "user is editing\n"


def test_untracked_files_do_not_block_a_merge(repo: Path, workspaces: Path) -> None:
    ws = task(repo, workspaces, "88888888", {"a.txt": "task\n"})
    write(repo / "notes.txt", "user's untracked notes\n")
    ws_mod.merge(repo, ws, **AUTHOR)
    assert (repo / "a.txt").read_text() == "task\n"


def test_nothing_to_merge_is_up_to_date(repo: Path, workspaces: Path) -> None:
    ws = task(repo, workspaces, "99999999", {})
    result = ws_mod.merge(repo, ws, **AUTHOR)
    assert result.up_to_date and result.commit == head(repo)


def test_missing_base_branch_at_merge_time(repo: Path, workspaces: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "other")
    ws = task(repo, workspaces, "aaaaaaaa", {"a.txt": "task\n"})
    git(repo, "branch", "-D", "main")
    with pytest.raises(WorkspaceError, match="'main' does not exist; branches: "):
        ws_mod.merge(repo, ws, **AUTHOR)
