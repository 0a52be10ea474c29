"""Worktrees: isolation from the user's checkout and from each other, diff, commit."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from claudeserver.domain import workspace as ws_mod
from claudeserver.domain.workspace import FileStat, Workspace, WorkspaceError
from tests.workspace.conftest import AUTHOR, git, head, worktree_paths, write


def user_state(repo: Path) -> tuple[str, str, str, bytes]:
    return (
        git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all"),
        head(repo),
        git(repo, "diff", "HEAD"),
        (repo / ".git" / "index").read_bytes(),
    )


def test_two_worktrees_at_once_leave_a_dirty_user_checkout_alone(
    repo: Path, workspaces: Path
) -> None:
    write(repo / "a.txt", "user edit\n")
    write(repo / "b.txt", "staged edit\n")
    git(repo, "add", "b.txt")
    write(repo / "scratch.txt", "untracked\n")
    before = user_state(repo)

    one = ws_mod.create_worktree(repo, task_id="11111111-aaaa", base_branch="main", root=workspaces)
    two = ws_mod.create_worktree(repo, task_id="22222222-bbbb", base_branch="main", root=workspaces)
    assert one.path == workspaces.resolve() / "myrepo-11111111"
    assert (one.branch, two.branch) == ("claudeserver/11111111", "claudeserver/22222222")
    assert one.base_commit == two.base_commit == head(repo)
    # Each starts from the committed base, not from the user's uncommitted edits.
    assert (one.path / "a.txt").read_text() == "one\ntwo\nthree\n"
    assert not (one.path / "scratch.txt").exists()

    write(one.path / "one.txt", "from one\n")
    write(two.path / "a.txt", "from two\n")
    assert [s.path for s in ws_mod.diff_stat(one)] == ["one.txt"]
    assert [s.path for s in ws_mod.diff_stat(two)] == ["a.txt"]
    assert ws_mod.commit_all(one, message="one", **AUTHOR)
    assert ws_mod.commit_all(two, message="two", **AUTHOR)

    assert git(one.path, "log", "--format=%s", "-1").strip() == "one"
    assert git(two.path, "log", "--format=%s", "-1").strip() == "two"
    assert ws_mod.current_branch(one.path) == "claudeserver/11111111"
    assert user_state(repo) == before
    assert ws_mod.current_branch(repo) == "main"


def test_detached_user_checkout_stays_detached(repo: Path, workspaces: Path) -> None:
    write(repo / "a.txt", "second\n")
    git(repo, "commit", "--quiet", "-am", "second")
    git(repo, "checkout", "--quiet", "--detach", "HEAD~1")
    write(repo / "b.txt", "dirty\n")
    before = user_state(repo)
    assert ws_mod.current_branch(repo) is None

    ws = ws_mod.create_worktree(repo, task_id="33333333", base_branch="main", root=workspaces)
    assert (ws.path / "a.txt").read_text() == "second\n"
    write(ws.path / "c.txt", "new\n")
    ws_mod.commit_all(ws, message="c", **AUTHOR)
    assert user_state(repo) == before


def test_diff_shows_changed_added_deleted_before_and_after_commit(
    repo: Path, workspaces: Path
) -> None:
    ws = ws_mod.create_worktree(repo, task_id="44444444", base_branch="main", root=workspaces)
    write(ws.path / "a.txt", "one\nTWO\nthree\nfour\n")
    write(ws.path / "new" / "file.py", "x = 1\n")
    (ws.path / "b.txt").unlink()
    write(ws.path / "ignored" / "junk.txt", "not part of the diff\n")
    (ws.path / "image.bin").write_bytes(b"\x00\x01\x02binary")

    expected = [
        FileStat("a.txt", 2, 1),
        FileStat("b.txt", 0, 1),
        FileStat("image.bin", None, None),
        FileStat("new/file.py", 1, 0),
    ]
    uncommitted = ws_mod.diff(ws)
    assert ws_mod.diff_stat(ws) == expected
    assert "diff --git a/a.txt b/a.txt" in uncommitted
    assert "-two\n+TWO\n" in uncommitted
    assert "--- /dev/null\n+++ b/new/file.py\n" in uncommitted
    assert "deleted file mode" in uncommitted
    assert "ignored/junk.txt" not in uncommitted
    # Diffing must not stage anything in the agent's own index.
    assert "?? new/" in git(ws.path, "status", "--porcelain")

    ws_mod.commit_all(ws, message="change", **AUTHOR)
    assert ws_mod.diff(ws) == uncommitted
    assert ws_mod.diff_stat(ws) == expected


def test_diff_is_against_the_start_even_when_base_moves(repo: Path, workspaces: Path) -> None:
    ws = ws_mod.create_worktree(repo, task_id="55555555", base_branch="main", root=workspaces)
    write(repo / "b.txt", "moved on\n")
    git(repo, "commit", "--quiet", "-am", "base moves")
    assert ws_mod.diff(ws) == ""
    assert ws_mod.diff_stat(ws) == []


def test_commit_message_author_and_nothing_to_commit(repo: Path, workspaces: Path) -> None:
    ws = ws_mod.create_worktree(repo, task_id="66666666", base_branch="main", root=workspaces)
    assert ws_mod.commit_all(ws, message="nothing", **AUTHOR) is None
    write(ws.path / "a.txt", "changed\n")
    description = (
        "# Fix the parser " + "so that it handles every kind of input " * 3 + "\n\nDetails."
    )
    message = ws_mod.commit_message(description)
    sha = ws_mod.commit_all(ws, message=message, **AUTHOR)
    assert sha == head(ws.path)
    subject = git(ws.path, "log", "-1", "--format=%s").strip()
    assert subject.startswith("# Fix the parser so that")
    assert len(subject) <= 72
    assert subject.endswith("...")
    assert "Details." in git(ws.path, "log", "-1", "--format=%b")
    assert git(ws.path, "log", "-1", "--format=%an <%ae>|%cn").strip() == (
        "Claude Server <bot@example.test>|Claude Server"
    )
    assert ws_mod.commit_all(ws, message="again", **AUTHOR) is None


def test_commit_message_short_description_is_the_whole_message() -> None:
    assert ws_mod.commit_message("  Add a README\n") == "Add a README"
    assert ws_mod.commit_message("\n\n") == "claudeserver task"
    assert len(ws_mod.commit_message("x" * 200).splitlines()[0]) == 72


def test_hooks_of_the_repository_never_run(repo: Path, workspaces: Path) -> None:
    marker = repo.parent / "hook-ran"
    hooks = repo / ".git" / "hooks"
    for name in ("post-checkout", "pre-commit", "commit-msg", "post-commit", "post-merge"):
        hook = write(hooks / name, f"#!/bin/sh\necho {name} >> {marker}\n")
        hook.chmod(0o755)
    ws = ws_mod.create_worktree(repo, task_id="77777777", base_branch="main", root=workspaces)
    write(ws.path / "a.txt", "hooked?\n")
    ws_mod.commit_all(ws, message="no hooks", **AUTHOR)
    ws_mod.merge(repo, ws, **AUTHOR)
    assert not marker.exists()


def test_missing_base_branch_lists_the_branches(repo: Path, workspaces: Path) -> None:
    git(repo, "branch", "develop")
    with pytest.raises(WorkspaceError, match=r"'nope' does not exist; branches: develop, main"):
        ws_mod.create_worktree(repo, task_id="88888888", base_branch="nope", root=workspaces)
    assert worktree_paths(repo) == [str(repo)]


def test_not_a_repository(tmp_path: Path, workspaces: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not ws_mod.is_git_repo(plain)
    with pytest.raises(WorkspaceError, match="not inside a git repository"):
        ws_mod.create_worktree(plain, task_id="99999999", base_branch="main", root=workspaces)


def test_deleted_worktree_gives_a_clear_error_and_is_pruned(repo: Path, workspaces: Path) -> None:
    ws = ws_mod.create_worktree(repo, task_id="aaaaaaaa", base_branch="main", root=workspaces)
    shutil.rmtree(ws.path)
    for call in (ws_mod.diff, ws_mod.diff_stat, ws_mod.require):
        with pytest.raises(WorkspaceError, match=r"workspace .*myrepo-aaaaaaaa no longer exists"):
            call(ws)
    with pytest.raises(WorkspaceError, match="no longer exists"):
        ws_mod.commit_all(ws, message="x", **AUTHOR)
    ws_mod.remove(repo, ws)
    assert worktree_paths(repo) == [str(repo)]


def test_remove_leaves_only_the_main_checkout(repo: Path, workspaces: Path) -> None:
    one = ws_mod.create_worktree(repo, task_id="bbbbbbbb", base_branch="main", root=workspaces)
    two = ws_mod.create_worktree(repo, task_id="cccccccc", base_branch="main", root=workspaces)
    write(two.path / "uncommitted.txt", "dirty worktree\n")
    assert len(worktree_paths(repo)) == 3

    ws_mod.remove(repo, one)
    ws_mod.remove(repo, two, delete_branch=True)
    assert worktree_paths(repo) == [str(repo)]
    assert not one.path.exists() and not two.path.exists()
    assert ws_mod.branch_exists(repo, "claudeserver/bbbbbbbb")
    assert not ws_mod.branch_exists(repo, "claudeserver/cccccccc")
    ws_mod.remove(repo, one)  # removing twice is harmless


def test_project_in_a_subfolder_works_in_the_same_subfolder(repo: Path, workspaces: Path) -> None:
    write(repo / "pkg" / "mod.py", "x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "pkg")
    ws = ws_mod.create_worktree(
        repo / "pkg", task_id="dddddddd", base_branch="main", root=workspaces
    )
    assert ws.worktree == workspaces.resolve() / "myrepo-dddddddd"
    assert ws.path == ws.worktree / "pkg"
    write(ws.path / "mod.py", "x = 2\n")
    assert ws_mod.diff_stat(ws) == [FileStat("pkg/mod.py", 1, 1)]


def test_workspace_round_trips_through_json(repo: Path, workspaces: Path) -> None:
    ws = ws_mod.create_worktree(repo, task_id="eeeeeeee", base_branch="main", root=workspaces)
    assert Workspace.from_json(ws.to_json()) == ws


@pytest.mark.parametrize("target", ["evil repository", "directory"])
def test_a_rewritten_git_pointer_is_refused_before_git_runs(
    repo: Path, workspaces: Path, target: str
) -> None:
    """An agent that aims the worktree's .git at a repository with a clean filter would get
    its command run by our `git add`: git is not run there at all."""
    ws = ws_mod.create_worktree(repo, task_id="66666666", base_branch="main", root=workspaces)
    assert ws.worktree is not None
    marker = repo.parent / "filter-ran"
    evil = ws.worktree / "evil"
    git(ws.worktree, "init", "--quiet", str(evil))
    git(evil, "config", "filter.x.clean", f"sh -c 'echo ran > {marker}; cat'")
    git(evil, "config", "filter.x.required", "true")
    write(ws.worktree / ".gitattributes", "* filter=x\n")
    pointer = ws.worktree / ".git"
    if target == "directory":
        pointer.unlink()
        shutil.copytree(evil / ".git", pointer)
    else:
        pointer.write_text(f"gitdir: {evil / '.git'}\n")
    with pytest.raises(WorkspaceError, match=r"\.git pointer .* was changed"):
        ws_mod.commit_all(ws, message="x", **AUTHOR)
    with pytest.raises(WorkspaceError, match="was changed"):
        ws_mod.diff(ws)
    assert not marker.exists()


def test_workspace_git_ignores_global_configuration(
    repo: Path, workspaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter from the global configuration does not run on a workspace's files."""
    marker = repo.parent / "global-filter-ran"
    global_config = write(
        tmp_path / "global.gitconfig",
        f"[filter \"x\"]\n\tclean = sh -c 'echo ran > {marker}; cat'\n",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    ws = ws_mod.create_worktree(repo, task_id="55555555", base_branch="main", root=workspaces)
    write(ws.path / ".gitattributes", "* filter=x\n")
    write(ws.path / "a.txt", "changed\n")
    assert ws_mod.commit_all(ws, message="x", **AUTHOR)
    assert not marker.exists()


def test_worktrees_made_and_removed_at_the_same_time_all_succeed(
    repo: Path, workspaces: Path
) -> None:
    """Tasks of one repository start and end in parallel: one's `worktree prune` must not
    delete the entry another's `worktree add` is still setting up."""
    old = [
        ws_mod.create_worktree(repo, task_id=f"0{n}aaaaaa", base_branch="main", root=workspaces)
        for n in range(4)
    ]

    def start(n: int) -> Workspace:
        return ws_mod.create_worktree(
            repo, task_id=f"1{n}bbbbbb", base_branch="main", root=workspaces
        )

    with ThreadPoolExecutor(8) as pool:
        removed = [pool.submit(ws_mod.remove, repo, ws) for ws in old]
        started = [pool.submit(start, n) for n in range(8)]
        made = [f.result() for f in started]
        for f in removed:
            f.result()
    assert all((ws.path / "a.txt").read_text() == "one\ntwo\nthree\n" for ws in made)
    listed = git(repo, "worktree", "list", "--porcelain")
    assert all(str(ws.worktree) in listed for ws in made)
    assert not any(ws.worktree.exists() for ws in old if ws.worktree)


def test_a_symlink_planted_as_the_lock_file_is_refused(
    repo: Path, workspaces: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "created"
    target.parent.mkdir()
    (repo / ".git" / "claudeserver-worktrees.flock").symlink_to(target)

    with pytest.raises(WorkspaceError, match="cannot use the lock file"):
        ws_mod.create_worktree(repo, task_id="66666666", base_branch="main", root=workspaces)
    assert not target.exists()
