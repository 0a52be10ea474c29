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
    # Calls a person may be asked about (Claude Code's `Tool(pattern)` syntax), and how many
    # files one command may delete before it is asked about.
    ask_rules: tuple[str, ...] = ()
    ask_deletes_over: int = 20
    # A person's remembered "allow" answers: they answer asks, never lift a denial.
    approved_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ask:
    """Why a call is in the grey zone: a person watching the task may answer it."""

    category: str
    question: str
    # The rules naming this call, which a remembered answer adds to the session's policy.
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """`allowed` is the answer when nobody is asked (the unattended default); an `ask`
    marks a grey-zone call that a person may answer instead."""

    allowed: bool
    reason: str
    category: str
    ask: Ask | None = None


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

# Why a call asks (Ask.category).
ASK_NETWORK = "network"  # WebFetch of a host outside `fetch_domains`
ASK_PUSH = "push"  # pushing the task branch
ASK_INSTALL = "install"  # a package the project's requirements and lock files do not name
ASK_DELETE = "mass_delete"  # more than `ask_deletes_over` files at once
ASK_RULE = "ask_rule"  # an `ask_rules` entry names it


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
