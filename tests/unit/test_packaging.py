"""How the server is started: import has no side effects; `uvicorn claudeserver.main:app`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_main_builds_nothing_until_app_is_asked_for(tmp_path: Path) -> None:
    code = (
        "import sys, claudeserver.main as m\n"
        "assert 'app' not in vars(m), 'app built at import'\n"
        "from fastapi import FastAPI\n"
        "assert isinstance(m.app, FastAPI)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # Settings() reads ./.env; an empty directory has none
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert not (tmp_path / "tasks.db").exists()  # the database is opened at startup only


def test_python_dash_m_offers_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "claudeserver", "--help"], capture_output=True, text=True, check=True
    )
    for name in ("serve", "doctor", "policy", "submit", "tasks", "show", "logs", "cancel"):
        assert name in result.stdout
