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
    # Force pushes, deleting remote refs, --mirror/--prune: their own switch, since no
    # allow rule may lift them.
    allow_force_push: bool = False
    allow_db_destroy: bool = False
    allow_publish: bool = False
    # Hosts (and their subdomains) WebFetch may read and commands may send local data to;
    # "*" means any public host.
    fetch_domains: tuple[str, ...] = ()
    # Loopback ports WebFetch may read: the project's own dev server.
    dev_server_ports: tuple[int, ...] = ()
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
EXFILTRATION = "exfiltration"
PRIVATE_NETWORK = "private_network"
UNLISTED_DOMAIN = "unlisted_domain"
PUBLISH = "publish"
UNPARSEABLE = "unparseable"
RULE = "rule"
UNKNOWN_TOOL = "unknown_tool"
INTERNAL_ERROR = "internal_error"


class Denial(Exception):
    """Raised deep inside the analysis so the first violation short-circuits the walk.

    `subject` is the exact path or command text the violation is about: allow rules may
    only override a denial when they name this subject. A `hard` denial is one no allow
    rule lifts even in a liftable category (a force push only its own switch allows).
    """

    def __init__(
        self, category: str, reason: str, subject: str = "", *, hard: bool = False
    ) -> None:
        super().__init__(f"{category}: {reason}")
        self.category = category
        self.reason = reason
        self.subject = subject
        self.hard = hard
        # The simple command the violation was found in, filled in by the shell walker.
        self.command = ""


def allow(reason: str = "allowed") -> Decision:
    return Decision(allowed=True, reason=reason, category=ALLOWED)


def deny(category: str, reason: str) -> Decision:
    return Decision(allowed=False, reason=reason, category=category)
