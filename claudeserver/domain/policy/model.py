"""Value types shared by every part of the policy engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PolicyConfig:
    project_dir: Path
    extra_dirs: tuple[Path, ...] = ()
    protected_paths: frozenset[Path] = frozenset()
    allow_rules: tuple[str, ...] = ()
    deny_rules: tuple[str, ...] = ()
    allow_git_push: bool = False
    allow_db_destroy: bool = False
    home: Path | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    category: str


ALLOWED = "allowed"
OUTSIDE_PROJECT = "outside_project"
PROJECT_ROOT = "project_root"
GIT_INTERNALS = "git_internals"
PRIVILEGE = "privilege"
SYSTEM = "system"
DOWNLOAD_EXEC = "download_exec"
SECRETS = "secrets"
PERSISTENCE = "persistence"
GIT_REMOTE = "git_remote"
DATABASE = "database"
DEVICE = "device"
RESOURCE_BOMB = "resource_bomb"
KILL = "kill"
NETWORK_LISTENER = "network_listener"
PROTECTED_TEST = "protected_test"
UNPARSEABLE = "unparseable"
RULE = "rule"
UNKNOWN_TOOL = "unknown_tool"
INTERNAL_ERROR = "internal_error"


class Denial(Exception):
    """Raised deep inside the analysis so the first violation short-circuits the walk.

    `subject` is the exact path or command text the violation is about: allow rules may
    only override a denial when they name this subject.
    """

    def __init__(self, category: str, reason: str, subject: str = "") -> None:
        super().__init__(f"{category}: {reason}")
        self.category = category
        self.reason = reason
        self.subject = subject
        # The simple command the violation was found in, filled in by the shell walker.
        self.command = ""


def allow(reason: str = "allowed") -> Decision:
    return Decision(allowed=True, reason=reason, category=ALLOWED)


def deny(category: str, reason: str) -> Decision:
    return Decision(allowed=False, reason=reason, category=category)
