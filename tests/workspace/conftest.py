"""Real git repositories in tmp dirs, on a machine with no git identity or user config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

AUTHOR = {"author_name": "Claude Server", "author_email": "bot@example.test"}


def git(repo: Path, *args: str) -> str:
    """Run git as the user would (the test's own commits carry an explicit identity)."""
    done = subprocess.run(
        ["git", "-c", "user.name=User", "-c", "user.email=user@example.test", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def no_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither ~/.gitconfig nor /etc/gitconfig: commits must not rely on a global identity.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    for name in ("EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on `main` with two committed files."""
    root = tmp_path / "myrepo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    write(root / "a.txt", "one\ntwo\nthree\n")
    write(root / "b.txt", "bee\n")
    write(root / "shared.txt", "line 1\nline 2\n")
    write(root / ".gitignore", "ignored/\n")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "initial")
    return root


@pytest.fixture
def workspaces(tmp_path: Path) -> Path:
    return tmp_path / "workspaces"


def worktree_paths(repo: Path) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def head(repo: Path, ref: str = "HEAD") -> str:
    return git(repo, "rev-parse", ref).strip()
