from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"
INSTALL = Path(__file__).parents[2] / "scripts" / "install-toolchains"

# The sample projects' own tests are run by the tests here, not collected with them.
collect_ignore = ["samples"]


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


@pytest.fixture(scope="session")
def editable_checkout(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """checkout(name): a sample as a user's checkout, with its own .venv holding the sample
    installed editable (`pip install -e .`, offline). Built once per test run and shared by
    the xdist workers; tests must not change it (copy it with `worktree`)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def checkout(name: str) -> Path:
        root = shared / "editable" / name
        root.parent.mkdir(exist_ok=True)
        with open(shared / "editable" / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / ".venv" / "installed").exists():
                _install_editable(name, root)
        return root

    return checkout


def _install_editable(name: str, root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(SAMPLES / name, root)
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    # pytest and the build backend come from the environment running these tests.
    [site] = venv.glob("lib/python*/site-packages")
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
            "--quiet", "--no-index", "--no-build-isolation", "--no-deps", "-e", root,
        ],
        check=True,
    )  # fmt: skip
    (venv / "installed").touch()


@pytest.fixture
def worktree(tmp_path: Path) -> Callable[[Path], Path]:
    """worktree(checkout): a copy of it as `git worktree add` makes one, without ignored
    build output and without the virtualenv."""

    def copy(checkout: Path) -> Path:
        ignored = shutil.ignore_patterns(".venv", "build", "*.egg-info", "__pycache__")
        return Path(shutil.copytree(checkout, tmp_path / "worktree", ignore=ignored))

    return copy
