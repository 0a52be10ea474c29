"""The few pytest settings the test gate needs, read from the project's own configuration."""

from __future__ import annotations

import configparser
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before Python 3.11
    import tomli as tomllib


@dataclass(frozen=True)
class PytestConfig:
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ()


def read_pytest_config(project: Path) -> PytestConfig:
    """From the file pytest itself reads in the project root: the first of these that holds
    pytest settings (a pytest.ini always does, even empty), as pytest >= 9 orders them."""
    for name, read in (
        ("pytest.toml", _pytest_toml),
        (".pytest.toml", _pytest_toml),
        ("pytest.ini", _pytest_ini),
        (".pytest.ini", _pytest_ini),
        ("pyproject.toml", _pyproject),
        ("tox.ini", _tox_ini),
        ("setup.cfg", _setup_cfg),
    ):
        path = project / name
        options = read(path) if path.is_file() else None
        if options is not None:
            return PytestConfig(
                testpaths=_args(options.get("testpaths")),
                python_files=_args(options.get("python_files")),
            )
    return PytestConfig()


def _args(value: object) -> tuple[str, ...]:
    """pytest's "args"/list settings: a TOML list, or a whitespace-separated string."""
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError:
            return tuple(value.split())
    return ()


def _toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as file:
            data: dict[str, object] = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return data


def _table(data: object, *keys: str) -> dict[str, object] | None:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else None


def _pytest_toml(path: Path) -> dict[str, object] | None:
    return _table(_toml(path), "pytest") or {}


def _pyproject(path: Path) -> dict[str, object] | None:
    data = _toml(path)
    return _table(data, "tool", "pytest", "ini_options") or _table(data, "tool", "pytest")


def _ini(path: Path, section: str) -> dict[str, object] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return dict(parser[section]) if parser.has_section(section) else None


def _pytest_ini(path: Path) -> dict[str, object] | None:
    return _ini(path, "pytest") or {}


def _tox_ini(path: Path) -> dict[str, object] | None:
    return _ini(path, "pytest")


def _setup_cfg(path: Path) -> dict[str, object] | None:
    return _ini(path, "tool:pytest")
