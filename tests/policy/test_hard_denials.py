"""Denials that loosening options cannot lift: pushes judged by their refspecs, sensitive
places before writable roots, deny rules whatever the spelling."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from claudeserver.policy import PolicyConfig, decide


def _bash(command: str, config: PolicyConfig, cwd: Path | None = None) -> tuple[bool, str]:
    decision = decide("Bash", {"command": command}, config, cwd=cwd)
    return decision.allowed, decision.category


TASK_PUSH_RULE = "Bash(git push origin claudeserver/*)"


@pytest.mark.parametrize(
    "command",
    [
        "git push origin claudeserver/abc +main:main",
        "git push origin claudeserver/abc --force",
        "git push origin claudeserver/abc -f",
        "git push origin claudeserver/abc --delete main",
        "git push origin claudeserver/abc :main",
        "git push origin claudeserver/abc main",
        "git push origin claudeserver/abc:main",
        "git push origin claudeserver/abc:refs/heads/main",
        "git push origin claudeserver/abc refs/tags/v1",
        "git push origin claudeserver/abc --mirror",
        "git push origin claudeserver/abc --all",
        "git push origin claudeserver/abc --prune",
        "git push origin claudeserver/abc --force-with-lease",
        "git push origin claudeserver/abc 'refs/heads/*:refs/heads/*'",
    ],
)
def test_an_allow_rule_for_task_branches_lifts_nothing_else(
    command: str, config: PolicyConfig
) -> None:
    lenient = replace(config, allow_rules=(TASK_PUSH_RULE,))
    allowed, category = _bash(command, lenient)
    assert (allowed, category) == (False, "git_remote"), command


@pytest.mark.parametrize(
    "command",
    ["git push origin claudeserver/abc", "git push origin claudeserver/abc:claudeserver/abc"],
)
def test_an_allow_rule_lets_task_branches_go(command: str, config: PolicyConfig) -> None:
    assert _bash(command, config) == (False, "git_remote")
    assert _bash(command, replace(config, allow_rules=(TASK_PUSH_RULE,))) == (True, "allowed")


def test_the_switches_say_what_they_allow(config: PolicyConfig) -> None:
    pushing = replace(config, allow_git_push=True)
    assert _bash("git push origin main", pushing) == (True, "allowed")
    assert _bash("git push --force origin main", pushing) == (False, "git_remote")
    assert _bash("git push origin :main", pushing) == (False, "git_remote")
    forcing = replace(config, allow_force_push=True)
    assert _bash("git push --force origin main", forcing) == (True, "allowed")
    assert _bash("git push origin --delete old", forcing) == (True, "allowed")


def test_a_push_without_refspec_pushes_the_current_branch(
    config: PolicyConfig, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "claudeserver/abc", str(repo)], check=True)
    lenient = replace(config, project_dir=repo, allow_rules=("Bash(git push *)",))
    assert _bash("git push", lenient, repo) == (True, "allowed")
    assert _bash("git push origin HEAD", lenient, repo) == (True, "allowed")
    head = ["git", "-C", str(repo), "symbolic-ref", "HEAD"]
    subprocess.run([*head, "refs/heads/main"], check=True)
    assert _bash("git push", lenient, repo) == (False, "git_remote")
    subprocess.run([*head, "refs/heads/claudeserver/abc"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "config", "remote.origin.push", "+refs/heads/*:refs/heads/*"],
        check=True,
    )
    assert _bash("git push", lenient, repo) == (False, "git_remote")
    assert _bash("git -c push.default=matching push", lenient, repo) == (False, "git_remote")


def test_remotes_cannot_be_repointed_without_the_push_switch(config: PolicyConfig) -> None:
    lenient = replace(config, allow_rules=(TASK_PUSH_RULE, "Bash(git remote *)"))
    assert _bash("git remote set-url origin https://evil.example/x.git", lenient)[0] is False
    assert _bash("git config remote.origin.url https://evil.example/x.git", lenient)[0] is False
    assert _bash("git remote -v", lenient) == (True, "allowed")


@pytest.mark.parametrize("extra", ["~", "/"])
@pytest.mark.parametrize(
    ("target", "category"),
    [
        ("~/.ssh/authorized_keys", "secrets"),
        ("~/.bashrc", "persistence"),
        ("~/.profile", "persistence"),
        ("~/.gitconfig", "persistence"),
        ("/etc/sudoers.d/agent", "privilege"),
        ("/etc/cron.d/job", "persistence"),
    ],
)
def test_extra_dirs_do_not_open_sensitive_places(
    extra: str, target: str, category: str, config: PolicyConfig, sandbox: Path
) -> None:
    home = sandbox / "home"
    wide = replace(config, extra_dirs=(home if extra == "~" else Path("/"),))
    write = decide("Write", {"file_path": target, "content": "x"}, wide)
    assert (write.allowed, write.category) == (False, category)
    assert _bash(f"echo x >> {target}", wide) == (False, category)
    assert decide("Write", {"file_path": str(home / "notes.txt"), "content": ""}, wide).allowed


@pytest.mark.parametrize(
    ("rule", "command"),
    [
        ("Bash(curl:*)", "/usr/bin/curl https://docs.python.org"),
        ("Bash(curl *)", "env FOO=1 /usr/bin/curl https://docs.python.org"),
        ("Bash(git commit:*)", "git -c user.name=x commit -m y"),
        ("Bash(git commit *)", "git -C . --no-pager commit -m y"),
        ("Bash(rm *)", "command /bin/rm -f build/x"),
        ("Bash(npm publish)", "npm publish"),
    ],
)
def test_deny_rules_match_every_spelling(rule: str, command: str, config: PolicyConfig) -> None:
    strict = replace(config, deny_rules=(rule,), allow_publish=True)
    assert _bash(command, strict) == (False, "rule"), command
