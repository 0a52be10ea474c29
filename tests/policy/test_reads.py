"""Reads are an allowlist: the project, its extra dirs, scratch space and the system and
toolchain locations; everything else that exists is denied."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from claudeserver.policy import PolicyConfig, decide
from claudeserver.policy.readable import in_transcripts


def _read(path: str, config: PolicyConfig, tool: str = "Read") -> tuple[bool, str]:
    key = {"Read": "file_path", "Grep": "path", "Glob": "path"}[tool]
    decision = decide(tool, {key: path, "pattern": "x"}, config)
    return decision.allowed, decision.category


def _cat(path: str, config: PolicyConfig) -> tuple[bool, str]:
    decision = decide("Bash", {"command": f"cat {path}"}, config)
    return decision.allowed, decision.category


# Every credential the issue found readable, plus its kin.
SECRETS = [
    "~/.npmrc",
    "~/.config/gh/hosts.yml",
    "~/.claude.json",
    "~/.cargo/credentials.toml",
    "~/.config/git/credentials",
    "~/.bash_history",
    "~/.zsh_history",
    "~/.python_history",
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
    "../other-project/.envrc",
    "../other-project/.env",
    "/tmp/claude-resume-abc/.credentials.json",
]


@pytest.mark.parametrize("path", SECRETS)
def test_credentials_are_secrets_to_every_tool(path: str, config: PolicyConfig) -> None:
    assert _read(path, config) == (False, "secrets")
    assert _cat(path, config) == (False, "secrets")


@pytest.mark.parametrize(
    "path",
    ["~/Documents/taxes.txt", "~/.bashrc", "../someone/.bashrc", "../other-project/main.py"],
)
def test_other_files_outside_the_readable_places_are_denied(
    path: str, config: PolicyConfig
) -> None:
    """Another user's home, one's own documents, another project: nothing lists them as
    secrets, they are simply not somewhere a task reads."""
    assert _read(path, config) == (False, "outside_project")
    assert _cat(path, config) == (False, "outside_project")
    assert _read(path.rsplit("/", 1)[0], config, "Grep") == (False, "outside_project")


@pytest.mark.parametrize(
    "path",
    [
        "src/app.py",
        ".env",
        "{extra}/notes.txt",
        "/usr/lib/os-release",
        "/etc/hosts",
        "/etc/ssh/ssh_config",
        "/proc/cpuinfo",
        "/tmp/scratch.txt",
        "~/.cargo/registry/src/lib.rs",
        "~/.cache/pip/x",
        "~/.rustup/toolchains",
        "~/go/pkg/mod/x",
        "~/.npm/_cacache",
        "~/.pyenv/versions",
        ".venv/lib",
        "/elsewhere/node_modules/left-pad/index.js",
        "/nonexistent/api/v1",
    ],
)
def test_project_system_and_toolchain_places_are_readable(
    path: str, config: PolicyConfig, sandbox: Path
) -> None:
    path = path.format(extra=sandbox / "extra")
    assert _read(path, config) == (True, "allowed")
    assert _cat(path, config) == (True, "allowed")


def test_a_virtualenv_anywhere_is_readable(config: PolicyConfig, sandbox: Path) -> None:
    """Tests run with the origin checkout's .venv when the task works in a worktree."""
    venv = sandbox / "other-project" / ".venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python").write_text("")
    assert _cat(str(venv / "bin" / "python"), config) == (True, "allowed")
    assert decide("Bash", {"command": f"{venv}/bin/python -m pytest"}, config).allowed


def test_directories_above_readable_places_may_be_listed_not_searched(
    config: PolicyConfig,
) -> None:
    assert decide("Bash", {"command": "tr / _ < src/app.py"}, config).allowed
    for command in ("grep -r token ~", "grep -rn password /", "tar czf /tmp/h.tgz ~"):
        assert not decide("Bash", {"command": command}, config).allowed, command


def test_rules_open_and_close_places(config: PolicyConfig, sandbox: Path) -> None:
    opened = replace(config, allow_rules=("Read(~/Documents/**)",))
    assert _read("~/Documents/taxes.txt", opened) == (True, "allowed")
    assert _cat("~/Documents/taxes.txt", opened) == (True, "allowed")
    assert _cat("~/.npmrc", replace(config, allow_rules=("Read(~/**)",))) == (False, "secrets")
    closed = replace(config, deny_rules=("Read(./src/**)",))
    assert _cat("src/app.py", closed) == (False, "rule")
    assert not decide("Bash", {"command": "grep -n x src/app.py"}, closed).allowed
    fenced = replace(config, deny_rules=("Edit(./README.md)",))
    assert not decide("Bash", {"command": "echo x > README.md"}, fenced).allowed


def test_claude_codes_saved_tool_outputs_are_readable(sandbox: Path) -> None:
    home, project = sandbox / "home", sandbox / "project"
    name = str(project).replace("/", "-").replace("_", "-").replace(".", "-")
    saved = home / ".claude" / "projects" / name / "session" / "tool-results" / "x.txt"
    assert in_transcripts(saved, home, project)
    assert not in_transcripts(
        home / ".claude" / "projects" / (name + "-other") / "x", home, project
    )
