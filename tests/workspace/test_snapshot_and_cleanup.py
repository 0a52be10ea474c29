"""Isolation "none": a snapshot of a plain folder, its diff; removing expired workspaces."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from claudeserver.domain import workspace as ws_mod
from claudeserver.domain.workspace import FileStat, Workspace, WorkspaceError
from tests.workspace.conftest import worktree_paths, write


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    root = tmp_path / "plain"
    write(root / "keep.txt", "same\n")
    write(root / "edit.py", "a = 1\nb = 2\n")
    write(root / "gone.txt", "bye\n")
    write(root / "node_modules" / "dep.js", "ignored\n")
    write(root / ".venv" / "lib.py", "ignored\n")
    write(root / "big.dat", "x" * 1_100_000)
    return root


def test_snapshot_diff_and_stat(plain: Path, workspaces: Path) -> None:
    ws = ws_mod.create_snapshot(plain, task_id="12345678-x", root=workspaces)
    assert ws.kind == "snapshot" and ws.path == plain.resolve()
    assert ws.snapshot is not None and ws.snapshot.parent == workspaces.resolve()
    assert not (ws.snapshot / "tree" / "big.dat").exists()
    assert ws_mod.diff(ws) == ""

    write(plain / "edit.py", "a = 1\nb = 3\nc = 4")  # no newline at the end
    write(plain / "added" / "new.txt", "hello\n")
    (plain / "gone.txt").unlink()
    (plain / "blob.bin").write_bytes(b"\x00\xff")
    write(plain / "node_modules" / "dep.js", "changed but skipped\n")
    write(plain / "big.dat", "y" * 1_200_000)
    ws_mod.commit_all(ws, message="no-op for snapshots", author_name="a", author_email="a@b")

    assert ws_mod.diff_stat(ws) == [
        FileStat("added/new.txt", 1, 0),
        FileStat("big.dat", None, None),
        FileStat("blob.bin", None, None),
        FileStat("edit.py", 2, 1),
        FileStat("gone.txt", 0, 1),
    ]
    text = ws_mod.diff(ws)
    assert "diff --git a/added/new.txt b/added/new.txt\nnew file mode 100644\n" in text
    assert "--- /dev/null\n+++ b/added/new.txt\n@@ -0,0 +1 @@\n+hello\n" in text
    assert "--- a/gone.txt\n+++ /dev/null\n" in text
    assert "-b = 2\n+b = 3\n+c = 4\n\\ No newline at end of file\n" in text
    assert "Binary files /dev/null and b/blob.bin differ" in text
    assert "node_modules" not in text


def test_snapshot_inside_the_project_is_not_part_of_it(plain: Path) -> None:
    ws = ws_mod.create_snapshot(plain, task_id="abcdef12", root=plain / ".workspaces")
    assert ws_mod.diff_stat(ws) == []


def test_snapshot_of_a_vanished_project(tmp_path: Path, plain: Path, workspaces: Path) -> None:
    ws = ws_mod.create_snapshot(plain, task_id="abcdef12", root=workspaces)
    ws_mod.remove(tmp_path, ws)
    with pytest.raises(WorkspaceError, match="no longer exists"):
        ws_mod.diff(ws)


def test_remove_expired(repo: Path, plain: Path, workspaces: Path) -> None:
    now = datetime(2025, 1, 2, 12, 0)
    old = ws_mod.create_worktree(repo, task_id="0ld00000", base_branch="main", root=workspaces)
    new = ws_mod.create_worktree(repo, task_id="new00000", base_branch="main", root=workspaces)
    snap = ws_mod.create_snapshot(plain, task_id="snap0000", root=workspaces)
    entries: list[tuple[Path, Workspace, datetime]] = [
        (repo, old, now - timedelta(hours=30)),
        (repo, new, now - timedelta(hours=1)),
        (plain, snap, now - timedelta(hours=48)),
    ]
    removed = ws_mod.remove_expired(entries, max_age=timedelta(hours=24), now=now)
    assert removed == [old, snap]
    assert worktree_paths(repo) == [str(repo), str(new.path)]
    assert snap.snapshot is not None and not snap.snapshot.exists()
    assert ws_mod.branch_exists(repo, "claudeserver/0ld00000")
