from __future__ import annotations

from pathlib import Path

import pytest

from claudeserver.cli import main
from tests.checks import policy_check


def test_serve_refuses_to_go_without_a_token_on_a_public_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("API_TOKENS", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--insecure-no-auth"]) == 2
    assert "AUTH=none is allowed only with a loopback HOST" in capsys.readouterr().err
    monkeypatch.setenv("AUTH", "none")
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "AUTH=none is allowed only with a loopback HOST" in capsys.readouterr().err


def test_invalid_settings_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "99999")
    assert main(["serve"]) == 2
    assert "port" in capsys.readouterr().err.lower()
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("WORKSPACE_DISK_LIMIT_MB", "-5")
    assert main(["serve"]) == 2
    assert "workspace_disk_limit_mb" in capsys.readouterr().err.lower()


def test_policy_check_reads_json_lines(tmp_path: Path) -> None:
    lines = [
        {"tool": "Bash", "input": {"command": "rm -rf ~"}, "cwd": str(tmp_path)},
        {"tool": "Bash", "input": {"command": "pytest -q"}, "cwd": str(tmp_path)},
    ]
    assert policy_check(lines) == ["deny", "allow"]


def test_doctor_checks_database_and_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-a-key-for-this-test")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "database" in out and "claude cli" in out
    assert "credentials  ok: ANTHROPIC_API_KEY" in out and "sk-ant-a-key" not in out


def test_doctor_fails_without_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from claudeserver.domain.credentials import KEY_VARIABLES, PROVIDER_SWITCHES

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    for name in (*KEY_VARIABLES, "ANTHROPIC_BASE_URL", *PROVIDER_SWITCHES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-login"))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "credentials  missing: " in out and "ANTHROPIC_API_KEY" in out
