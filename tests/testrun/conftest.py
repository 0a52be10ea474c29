from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"
INSTALL = Path(__file__).parents[2] / "scripts" / "install-toolchains"


@pytest.fixture(scope="session")
def toolchain() -> Callable[[str], None]:
    """require(tool): installs Go and Rust once if missing, skips when that is impossible."""
    log = ""
    if not (shutil.which("go") and shutil.which("cargo")):
        done = subprocess.run([INSTALL], capture_output=True, text=True, timeout=600)
        log = (done.stdout + done.stderr)[-1000:]

    def require(tool: str) -> None:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/install-toolchains: {log or 'not run'})")

    return require


@pytest.fixture
def sample(tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a sample project under tests/testrun/samples."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(SAMPLES / name, tmp_path / name))

    return copy
