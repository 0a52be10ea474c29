"""File tools, secret reads, protected paths and non-Bash tools."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from claudeserver.policy import PolicyConfig, decide


def _check(tool: str, tool_input: dict[str, object], config: PolicyConfig) -> tuple[bool, str]:
    decision = decide(tool, tool_input, config)
    return decision.allowed, decision.category


@pytest.mark.parametrize(
    ("tool", "path", "category"),
    [
        ("Write", "src/new.py", "allowed"),
        ("Edit", "{project}/src/app.py", "allowed"),
        ("MultiEdit", "README.md", "allowed"),
        ("Write", "/tmp/scratch.txt", "allowed"),
        ("Write", "{extra}/notes.txt", "allowed"),
        ("Write", "~/.bashrc", "persistence"),
        ("Write", "~/notes.txt", "outside_project"),
        ("Edit", "../other-project/main.py", "outside_project"),
        ("Write", "src/../../other-project/x.py", "outside_project"),
        ("Write", "homelink/evil.txt", "outside_project"),
        ("Write", "sibling/main.py", "outside_project"),
        ("Write", ".git/config", "git_internals"),
        ("Edit", ".git/hooks/pre-commit", "git_internals"),
        ("Write", "/etc/hosts", "persistence"),
        ("Write", "~/.ssh/authorized_keys", "secrets"),
        ("Write", "/dev/sda", "device"),
        ("Edit", "tests/test_regression.py", "protected_test"),
        ("Write", "tests/test_new.py", "allowed"),
    ],
)
def test_write_tools(
    tool: str, path: str, category: str, config: PolicyConfig, sandbox: Path
) -> None:
    path = path.format(project=sandbox / "project", extra=sandbox / "extra")
    allowed, got = _check(tool, {"file_path": path, "content": "x"}, config)
    assert got == category
    assert allowed == (category == "allowed")


def test_protected_reason_mentions_regression_tests(config: PolicyConfig) -> None:
    decision = decide("Write", {"file_path": "tests/test_regression.py"}, config)
    assert "regression test" in decision.reason


def test_notebook_edit_uses_notebook_path(config: PolicyConfig) -> None:
    assert _check("NotebookEdit", {"notebook_path": "nb.ipynb"}, config) == (True, "allowed")
    assert _check("NotebookEdit", {"notebook_path": "/opt/nb.ipynb"}, config)[0] is False


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("src/app.py", "allowed"),
        ("/etc/hosts", "allowed"),
        (".env", "allowed"),
        ("~/.bashrc", "outside_project"),
        ("~/.ssh/id_rsa", "secrets"),
        ("~/.aws/credentials", "secrets"),
        ("~/.config/gcloud/creds.json", "secrets"),
        ("~/.kube/config", "secrets"),
        ("~/.docker/config.json", "secrets"),
        ("~/.netrc", "secrets"),
        ("~/.claude/.credentials.json", "secrets"),
        ("/etc/shadow", "secrets"),
        ("/etc/sudoers", "secrets"),
        ("/proc/self/environ", "secrets"),
        ("../other-project/.env", "secrets"),
        ("deploy_key", "secrets"),
        ("homelink/.ssh/id_rsa", "secrets"),
    ],
)
def test_reads(path: str, category: str, config: PolicyConfig) -> None:
    assert _check("Read", {"file_path": path}, config) == (category == "allowed", category)


def test_grep_and_glob_into_secrets(config: PolicyConfig) -> None:
    assert _check("Grep", {"pattern": "x", "path": "~/.ssh"}, config) == (False, "secrets")
    assert _check("Glob", {"pattern": "*", "path": "~/.aws"}, config) == (False, "secrets")
    assert _check("Glob", {"pattern": "~/.ssh/*"}, config) == (False, "secrets")
    assert _check("Grep", {"pattern": "TODO"}, config) == (True, "allowed")
    assert _check("Glob", {"pattern": "**/*.py", "path": "src"}, config) == (True, "allowed")


def test_web_and_internal_tools(config: PolicyConfig) -> None:
    assert _check("WebFetch", {"url": "https://docs.python.org/3/", "prompt": "x"}, config)[0]
    assert _check("WebSearch", {"query": "pytest fixtures"}, config)[0]
    assert _check("WebFetch", {"url": "file:///etc/shadow"}, config) == (False, "secrets")
    for tool in ("TodoWrite", "Task", "Agent", "AskUserQuestion", "ExitPlanMode", "KillShell"):
        assert _check(tool, {}, config) == (True, "allowed")


def test_unknown_and_mcp_tools(config: PolicyConfig) -> None:
    assert _check("FormatDisk", {}, config) == (False, "unknown_tool")
    denied = decide("mcp__github__create_issue", {}, config)
    assert not denied.allowed and "allow rule" in denied.reason
    allowed = replace(config, allow_rules=("mcp__github",))
    assert _check("mcp__github__create_issue", {}, allowed) == (True, "allowed")
    exact = replace(config, allow_rules=("mcp__github__create_issue",))
    assert _check("mcp__github__create_issue", {}, exact)[0]
    assert not _check("mcp__github__delete_repo", {}, exact)[0]


def test_malformed_tool_input(config: PolicyConfig) -> None:
    assert _check("Write", {}, config) == (False, "unparseable")
    assert _check("Bash", {"command": 42}, config) == (False, "unparseable")


def test_cwd_changes_relative_resolution(config: PolicyConfig, sandbox: Path) -> None:
    src = sandbox / "project" / "src"
    assert decide("Bash", {"command": "rm -rf ../build"}, config, cwd=src).allowed
    assert not decide("Bash", {"command": "rm -rf ../../home"}, config, cwd=src).allowed
