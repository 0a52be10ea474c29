"""git commands that rewrite the whole working tree are denied where it holds pre-existing
tests, and allowed where it holds none."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from claudeserver.policy import PolicyConfig, decide

WHOLE_TREE = ("git reset --hard", "git stash", "git stash pop", "git switch main")


def _decide(command: str, config: PolicyConfig, cwd: Path | None = None) -> tuple[bool, str]:
    decision = decide("Bash", {"command": command}, config, cwd=cwd)
    return decision.allowed, decision.reason


def test_without_pre_existing_tests_the_whole_tree_may_change(config: PolicyConfig) -> None:
    untested = replace(config, protected_paths=frozenset())
    for command in WHOLE_TREE:
        assert _decide(command, untested)[0], command


def test_the_denial_names_the_tests_and_the_per_file_way(config: PolicyConfig) -> None:
    allowed, reason = _decide("git stash", config)
    assert not allowed
    assert "tests/test_regression.py" in reason
    assert "`git stash push -- <file>`" in reason


def test_a_task_worktree_stays_on_its_branch(tmp_path: Path) -> None:
    """In a task's worktree: moving to its own branch changes nothing; to any other, or
    resetting, would check the tests out again from elsewhere. Tests in another
    repository below the project do not count for this one."""
    repo, worktree = tmp_path / "repo", tmp_path / "worktree"
    git = ["git", "-c", "user.name=u", "-c", "user.email=u@example.test"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    subprocess.run(
        [*git, "-C", str(repo), "worktree", "add", "-q", "-b", "claudeserver/abc", str(worktree)],
        check=True,
    )
    (worktree / "tests").mkdir()
    test = worktree / "tests" / "test_old.py"
    test.write_text("def test_ok(): pass\n")
    config = PolicyConfig(project_dir=worktree, protected_paths=frozenset({test}))

    assert _decide("git checkout claudeserver/abc", config, worktree)[0]
    assert _decide("git switch claudeserver/abc", config, worktree)[0]
    assert not _decide("git checkout main", config, worktree)[0]
    assert not _decide("git reset --hard", config, worktree / "tests")[0]
    nested = worktree / "vendor" / "lib"
    subprocess.run([*git, "init", "-q", "-b", "main", str(nested)], check=True)
    assert _decide("git reset --hard", config, nested)[0]
