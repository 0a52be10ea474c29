"""Where the agent may read: an allowlist, because secrets live in too many places to list.

Outside the project, its extra dirs and scratch space, only system and toolchain
locations are readable: what compilers, interpreters and package managers install and
cache. Those hold no credentials (the credential files that live beside them, such as
~/.cargo/credentials.toml, are outside the listed subdirectories or denied as secrets
first). The same lists become the Bash sandbox's read rules (domain/sandbox.py).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

SYSTEM_READABLE = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
    "/proc", "/sys", "/dev", "/nix/store", "/snap", "/var/lib/dpkg", "/var/cache/apt",
    "/Library/Frameworks", "/Applications/Xcode.app", "/System",
)  # fmt: skip
# Toolchains and their caches, relative to a home directory.
HOME_TOOLCHAINS = (
    ".pyenv", ".rustup", ".cargo/registry", ".cargo/git", ".cargo/bin", "go/pkg/mod",
    "go/bin", ".npm", ".nvm", ".volta", ".bun/bin", ".bun/install", ".deno", ".cache",
    ".local/bin", ".local/lib", ".local/share/uv", ".local/share/pnpm", ".local/pipx",
    ".m2/repository", ".gradle/caches", ".gradle/wrapper", ".rbenv", ".gem/ruby", ".rvm",
    ".sdkman/candidates", ".conda/pkgs", ".conda/envs", "miniconda3", "anaconda3",
    "miniforge3", ".ghcup", ".opam", ".dotnet", ".nuget/packages", ".elan", ".julia/packages",
    ".yarn/berry", ".pnpm-store",
)  # fmt: skip
# Any directory by these names holds installed packages, wherever the project put it.
PACKAGE_DIRS = frozenset({"node_modules", "site-packages", "dist-packages"})
# Claude Code's transcript directory names: the project path with every other character
# replaced, cut at this length (large tool outputs are saved there for the agent to Read).
_TRANSCRIPT_NAME_LIMIT = 200


def interpreter_prefixes() -> tuple[Path, ...]:
    """The Python running the server (its venv and the interpreter it was made from)."""
    return tuple(dict.fromkeys(Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)))


def toolchain_dirs(home: Path) -> tuple[Path, ...]:
    return tuple(home / rel for rel in HOME_TOOLCHAINS)


def in_transcripts(path: Path, home: Path, project: Path) -> bool:
    """Inside the directory where Claude Code keeps this project's sessions (and the large
    tool outputs it saves for the agent to Read)."""
    config = os.environ.get("CLAUDE_CONFIG_DIR")
    projects = (Path(config) if config else home / ".claude") / "projects"
    if projects not in path.parents:
        return False
    name = re.sub(r"[^a-zA-Z0-9]", "-", str(project))
    folder = path.relative_to(projects).parts[0]
    if len(name) <= _TRANSCRIPT_NAME_LIMIT:
        return folder == name
    return folder.startswith(name[:_TRANSCRIPT_NAME_LIMIT] + "-")


def in_package_dir(path: Path) -> bool:
    """Inside node_modules/site-packages, or inside a Python virtualenv (its pyvenv.cfg)."""
    if PACKAGE_DIRS & set(path.parts):
        return True
    return any(
        (parent / "pyvenv.cfg").is_file() for parent in path.parents if parent.parent != parent
    )
