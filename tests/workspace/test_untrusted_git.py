"""The server's git on a task's worktree runs nothing the agent could have configured, and
runs confined: real git, real bubblewrap."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from claudeserver.domain import workspace as ws_mod
from claudeserver.domain.workspace import Workspace, untrusted
from tests.workspace.conftest import AUTHOR, git, write

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def _agent_configures_a_filter(ws: Workspace, repo: Path, run: str) -> None:
    """What an agent that got at the worktree's configuration would leave: a clean filter
    and a textconv running `run`, and a .gitattributes sending every file through them."""
    assert ws.worktree is not None
    git(repo, "config", "extensions.worktreeConfig", "true")
    for key, value in (
        ("filter.x.clean", f"sh -c '{run}; cat'"),
        ("filter.x.smudge", f"sh -c '{run}; cat'"),
        ("filter.x.required", "true"),
        ("diff.x.textconv", f"sh -c '{run}; cat \"$0\"'"),
        ("core.fsmonitor", f"sh -c '{run}'"),
    ):
        git(ws.worktree, "config", "--worktree", key, value)
    write(ws.path / ".gitattributes", "* filter=x diff=x\n")


def test_a_filter_in_the_repository_config_never_runs_and_the_commit_still_works(
    repo: Path, workspaces: Path, tmp_path: Path
) -> None:
    ws = ws_mod.create_worktree(repo, task_id="f1f1f1f1", base_branch="main", root=workspaces)
    assert ws.worktree is not None
    outside, inside = tmp_path / "filter-ran", ws.worktree / "filter-ran-inside"
    _agent_configures_a_filter(ws, repo, f"echo ran > {outside}; echo ran > {inside}")
    write(ws.path / "a.txt", "changed\n")

    assert [s.path for s in ws_mod.diff_stat(ws)] == [".gitattributes", "a.txt"]
    assert "+changed" in ws_mod.diff(ws)
    sha = ws_mod.commit_all(ws, message="with a filter configured", **AUTHOR)

    assert sha is not None
    assert git(ws.worktree, "show", f"{sha}:a.txt") == "changed\n"  # stored as it is
    assert not outside.exists() and not inside.exists()


def test_the_checkout_of_a_new_worktree_runs_no_smudge_filter(
    repo: Path, workspaces: Path, tmp_path: Path
) -> None:
    """git-lfs and the like: a smudge filter of the repository does not run at checkout."""
    marker = tmp_path / "smudge-ran"
    git(repo, "config", "filter.x.smudge", f"sh -c 'echo ran > {marker}; cat'")
    write(repo / ".gitattributes", "* filter=x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "attributes")
    ws = ws_mod.create_worktree(repo, task_id="f2f2f2f2", base_branch="main", root=workspaces)
    assert (ws.path / "a.txt").read_text() == "one\ntwo\nthree\n"
    assert not marker.exists()


@needs_bwrap
def test_what_git_might_still_run_there_is_confined(
    repo: Path, workspaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a filter missed, it would run where it can write nothing of the server's or the
    user's: not the worktree, not the repository's config or hooks, not the home."""
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec-server-value")
    ws = ws_mod.create_worktree(repo, task_id="f3f3f3f3", base_branch="main", root=workspaces)
    assert ws.worktree is not None
    home = Path.home()
    home.mkdir(parents=True, exist_ok=True)
    entry = repo / ".git" / "worktrees" / ws.worktree.name  # writable: git writes there
    attempts = [
        f"env > {entry}/seen-env",
        f"echo ran > {tmp_path}/planted",
        f"echo ran > {ws.worktree}/planted",
        f"echo [alias] >> {repo}/.git/config",
        f"echo ran > {repo}/.git/hooks/post-merge",
        f"echo ran > {home}/.bashrc",
        f"echo ran > {repo}/planted",
    ]
    _agent_configures_a_filter(ws, repo, "; ".join(f"{{ {a}; }} 2>/dev/null" for a in attempts))
    config_before = (repo / ".git" / "config").read_text()
    # The names of the drivers are not switched off here: the filter does run.
    monkeypatch.setattr(untrusted, "_DRIVER_KEYS", {})
    write(ws.path / "a.txt", "changed\n")

    sha = ws_mod.commit_all(ws, message="confined", **AUTHOR)

    assert sha is not None
    assert git(ws.worktree, "show", f"{sha}:a.txt") == "changed\n"
    seen = (entry / "seen-env").read_text()  # it did run, with none of the server's env
    assert "HOME=" in seen and "whsec-server-value" not in seen
    assert not (tmp_path / "planted").exists()  # the run's /tmp is its own
    assert not (ws.worktree / "planted").exists() and not (repo / "planted").exists()
    assert (repo / ".git" / "config").read_text() == config_before
    assert not (repo / ".git" / "hooks" / "post-merge").exists()
    assert not (home / ".bashrc").exists()
