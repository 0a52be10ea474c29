"""Each call is judged where it runs: the cwd the hook reports, and `policy check`'s
"project"/"cwd" pair."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from claudeserver.domain import gate
from claudeserver.policy import PolicyConfig, decide
from claudeserver.policy.audit import run_audit
from tests.checks import policy_check


@pytest.mark.parametrize(
    ("where", "command", "category"),
    [
        (".git", "rm -rf objects refs/heads", "git_internals"),
        (".git", "echo x > hooks/pre-commit", "git_internals"),
        ("tests", "rm -f test_regression.py", "protected_test"),
        ("tests", "sed -i 's/x/y/' test_regression.py", "protected_test"),
        ("src", "rm -rf ../tests", "protected_test"),
        ("src", "rm -rf ..", "project_root"),
    ],
)
def test_a_call_is_judged_in_its_cwd(
    where: str, command: str, category: str, config: PolicyConfig, sandbox: Path
) -> None:
    cwd = sandbox / "project" / where
    at_root = decide("Bash", {"command": command}, config)
    there = decide("Bash", {"command": command}, config, cwd=cwd)
    assert (there.allowed, there.category) == (False, category), there.reason
    assert at_root.category != category  # the same words mean something else at the root


def test_file_tools_resolve_relative_paths_in_the_cwd(config: PolicyConfig, sandbox: Path) -> None:
    tests = sandbox / "project" / "tests"
    edit = decide("Edit", {"file_path": "test_regression.py"}, config, cwd=tests)
    assert (edit.allowed, edit.category) == (False, "protected_test")


def test_the_gate_passes_the_cwd_on(config: PolicyConfig, sandbox: Path) -> None:
    command = {"command": "rm -f test_regression.py"}
    there = asyncio.run(gate.check("Bash", command, config, cwd=sandbox / "project" / "tests"))
    assert (there.allowed, there.category) == (False, "protected_test")
    assert asyncio.run(gate.check("Bash", command, config)).allowed


def test_policy_check_takes_a_project_and_a_cwd(config: PolicyConfig, sandbox: Path) -> None:
    project = sandbox / "project"
    rm = {"tool": "Bash", "input": {"command": "rm -rf objects"}}
    lines = [
        json.dumps({**rm, "project": str(project), "cwd": str(project / ".git")}),
        json.dumps({**rm, "project": str(project), "cwd": ".git"}),
        json.dumps({**rm, "project": str(project)}),
        # The older form: the call runs at the root `cwd`.
        json.dumps({**rm, "cwd": str(project)}),
        json.dumps({**rm, "project": "relative", "cwd": str(project)}),
    ]
    roots: list[Path] = []

    def config_for(root: Path) -> PolicyConfig:
        roots.append(root)
        return config

    results = [json.loads(line) for line in run_audit(lines, config_for=config_for)]
    assert [(r["decision"], r["category"]) for r in results] == [
        ("deny", "git_internals"),
        ("deny", "git_internals"),
        ("allow", "allowed"),
        ("allow", "allowed"),
        ("deny", "unparseable"),
    ]
    assert roots == [project] * 4


def test_the_policy_check_command_reads_project_and_cwd(sandbox: Path) -> None:
    project = sandbox / "project"
    lines = [
        {"tool": "Bash", "input": {"command": "rm -rf objects"}, "project": str(project),
         "cwd": ".git"},
        {"tool": "Bash", "input": {"command": "rm -rf objects"}, "cwd": str(project)},
    ]  # fmt: skip
    assert policy_check(lines) == ["deny", "allow"]
