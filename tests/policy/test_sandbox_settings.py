"""The policy's protections as Claude Code sandbox settings (domain/sandbox.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from claudeserver.domain.sandbox import sandbox_settings
from claudeserver.policy import PolicyConfig


def test_protected_tests_are_write_denied_and_homes_read_denied(
    config: PolicyConfig, sandbox: Path
) -> None:
    home, project = sandbox / "home", sandbox / "project"
    filesystem = sandbox_settings(["pypi.org"], home, policy=config)["filesystem"]

    assert filesystem["denyWrite"] == [str(project / "tests" / "test_regression.py")]
    assert str(home) in filesystem["denyRead"]
    assert {"/home", "/root"} <= set(filesystem["denyRead"])
    assert str(home / ".npmrc") in filesystem["denyRead"]
    allowed = set(filesystem["allowRead"])
    assert {str(project), str(sandbox / "extra"), str(home / ".cargo" / "registry")} <= allowed
    # allowRead wins below it: nothing holding credentials may be listed.
    assert not any(Path(p) in (home, home / ".cargo") for p in allowed)
    assert str(home / ".rustup") not in allowed  # absent here, so not named


def test_an_extra_dir_holding_a_home_does_not_reopen_it(
    config: PolicyConfig, sandbox: Path
) -> None:
    wide = replace(config, extra_dirs=(sandbox / "home", Path("/")))
    allowed = sandbox_settings([], sandbox / "home", policy=wide)["filesystem"]["allowRead"]
    assert str(sandbox / "home") not in allowed and "/" not in allowed


def test_without_a_policy_only_credentials_are_hidden(sandbox: Path) -> None:
    home = sandbox / "home"
    filesystem = sandbox_settings([], home)["filesystem"]
    assert set(filesystem) == {"denyRead"}
    assert str(home / ".ssh") in filesystem["denyRead"]


def test_no_protected_tests_no_write_denials(config: PolicyConfig) -> None:
    settings = sandbox_settings([], policy=replace(config, protected_paths=frozenset()))
    assert settings["filesystem"]["denyWrite"] == []
