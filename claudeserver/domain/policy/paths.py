"""Where a path really points, and what kind of place that is.

Every check resolves symlinks (`os.path.realpath`) so a link planted inside the project
that points elsewhere is judged by its destination.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .model import (
    DEVICE,
    GIT_INTERNALS,
    OUTSIDE_PROJECT,
    PERSISTENCE,
    PRIVILEGE,
    PROJECT_ROOT,
    PROTECTED_TEST,
    SECRETS,
    Denial,
    PolicyConfig,
)

GLOB_CHARS = frozenset("*?[")
_MAX_GLOB_MATCHES = 200

# Device nodes a command may legitimately write to or read from.
_HARMLESS_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty")
_HARMLESS_DEVICE_DIRS = ("/dev/fd", "/dev/shm", "/dev/pts")

HOME_SECRETS = (
    ".ssh",
    ".aws",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".docker/config.json",
    ".netrc",
    ".pgpass",
    ".gnupg",
    ".git-credentials",
    ".pypirc",
    ".claude/.credentials.json",
)
ABSOLUTE_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d")
_PROC_ENVIRON = re.compile(r"^/proc/[^/]+(/task/[^/]+)?/environ$")
# claude-agent-sdk copies the CLI's OAuth credentials here when it resumes a stored session.
_RESUME_CREDENTIALS = re.compile(r"^/tmp/claude-resume-[^/]+(/|$)")

_HOME_PERSISTENCE = (
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".zlogin",
    ".config/fish",
    ".config/autostart",
    ".config/systemd",
    ".local/share/systemd",
    "Library/LaunchAgents",
)
_ABSOLUTE_PERSISTENCE = (
    "/etc",
    "/Library/LaunchAgents",
    "/Library/LaunchDaemons",
    "/var/spool/cron",
    "/usr/lib/systemd",
    "/lib/systemd",
)


@dataclass(frozen=True)
class Places:
    """The resolved directories of a PolicyConfig, computed once per decision."""

    project: Path
    writable: tuple[Path, ...]
    homes: tuple[Path, ...]
    protected: frozenset[Path]
    temp_roots: tuple[Path, ...]

    @property
    def home(self) -> Path:
        return self.homes[0]


def places_for(config: PolicyConfig) -> Places:
    project = real(config.project_dir)
    home = real(config.home if config.home is not None else Path.home())
    # The agent runs as the real user, so the real home's secrets matter even when a
    # test passes a fake home.
    homes = tuple(dict.fromkeys((home, real(Path.home()))))
    return Places(
        project=project,
        writable=(project, *(real(d) for d in config.extra_dirs)),
        homes=homes,
        protected=frozenset(real(p) for p in config.protected_paths),
        temp_roots=_temp_roots(),
    )


@lru_cache(maxsize=1)
def _temp_roots() -> tuple[Path, ...]:
    roots = ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir())
    return tuple(dict.fromkeys(real(Path(r)) for r in roots))


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def expand_tilde(text: str, home: Path) -> str | None:
    """Expand a leading `~`; `~user` forms are unknowable here and return None."""
    if not text.startswith("~"):
        return text
    head, sep, rest = text[1:].partition("/")
    if head:
        return None
    return str(home) + (sep + rest if sep else "")


def lexical(text: str, cwd: Path, home: Path) -> Path:
    expanded = expand_tilde(text, home)
    if expanded is None:
        raise Denial(OUTSIDE_PROJECT, f"`{text}` names another user's home directory", text)
    return Path(os.path.normpath(cwd / expanded))


def resolve(text: str, cwd: Path, home: Path) -> Path:
    return real(lexical(text, cwd, home))


def has_glob(text: str) -> bool:
    return any(c in GLOB_CHARS for c in text) or ("{" in text and "}" in text)


def secret_reason(path: Path, places: Places) -> str | None:
    """Why reading `path` would expose a credential, or None when it is not a secret."""
    text = str(path)
    for home in places.homes:
        for rel in HOME_SECRETS:
            if within(path, home / rel):
                return f"{path} is inside ~/{rel}, which holds credentials"
    for secret in ABSOLUTE_SECRETS:
        if within(path, Path(secret)):
            return f"{path} holds system credentials"
    if _PROC_ENVIRON.match(text):
        return f"{path} exposes another process's environment variables"
    if _RESUME_CREDENTIALS.match(text):
        return f"{path} holds the Claude CLI's credentials copied for a resume"
    name = path.name
    is_env_file = name == ".env" or name.startswith(".env.")
    if is_env_file and not within(path, places.project):
        return f"{path} is the .env file of another directory"
    return None


def check_read(text: str, cwd: Path, places: Places) -> None:
    """Deny reading a secret, judged both by the spelled path and its symlink target."""
    spelled = lexical(text, cwd, places.home)
    for candidate in (spelled, real(spelled)):
        reason = secret_reason(candidate, places)
        if reason is not None:
            raise Denial(SECRETS, f"reads secrets: {reason}", str(candidate))


def _is_persistence(path: Path, places: Places) -> bool:
    if any(within(path, Path(p)) for p in _ABSOLUTE_PERSISTENCE):
        return True
    return any(within(path, home / rel) for home in places.homes for rel in _HOME_PERSISTENCE)


def _device_denial(spelled: Path) -> Denial | None:
    text = str(spelled)
    if not text.startswith("/dev/") or text in _HARMLESS_DEVICES:
        return None
    if any(within(spelled, Path(d)) for d in _HARMLESS_DEVICE_DIRS):
        return None
    return Denial(DEVICE, f"writes to the device {text}", text)


def _in_temp(path: Path, places: Places) -> bool:
    """Temp dirs are scratch space, but not when they also hold a home or another project.

    Projects and (in tests) homes often live under /tmp themselves, so a temp path is only
    scratch when it is strictly inside a temp root, outside every home, not an ancestor of
    the project, and not next to the project (where sibling projects live).
    """
    if not any(path != root and within(path, root) for root in places.temp_roots):
        return False
    if any(within(path, home) or within(home, path) for home in places.homes):
        return False
    return not within(places.project, path) and not within(path, places.project.parent)


def check_write(text: str, cwd: Path, places: Places, *, deleting: bool = False) -> None:
    """Deny writing, deleting or moving `text` unless it is a project/extra/temp path."""
    spelled = lexical(text, cwd, places.home)
    device = _device_denial(spelled)
    if device is not None:
        raise device
    if str(spelled).startswith("/dev/"):
        return
    # Deleting or moving a symlink acts on the link itself, not on what it points to.
    keep_link = deleting and not text.endswith("/") and spelled.is_symlink()
    target = real(spelled.parent) / spelled.name if keep_link else real(spelled)
    verb = "deletes" if deleting else "writes to"
    if target in places.protected:
        raise Denial(
            PROTECTED_TEST,
            f"{target} is a pre-existing regression test; regression tests must not be "
            "edited, moved or deleted",
            str(target),
        )
    if deleting and target in places.writable:
        raise Denial(PROJECT_ROOT, f"{verb} the project directory itself ({target})", text)
    if within(target, places.project / ".git"):
        raise Denial(GIT_INTERNALS, f"{verb} the repository's .git ({target})", text)
    if any(within(target, root) for root in places.writable) or _in_temp(target, places):
        return
    _raise_outside(target, places, verb)


def _raise_outside(target: Path, places: Places, verb: str) -> None:
    if within(target, Path("/etc/sudoers")) or within(target, Path("/etc/sudoers.d")):
        raise Denial(PRIVILEGE, f"{verb} {target}, granting root privileges", str(target))
    secret = secret_reason(target, places)
    if secret is not None:
        raise Denial(SECRETS, f"{verb} credentials: {secret}", str(target))
    if _is_persistence(target, places):
        raise Denial(
            PERSISTENCE,
            f"{verb} {target}, a startup/config location that would persist beyond the task",
            str(target),
        )
    action = "deletes" if verb == "deletes" else "writes"
    raise Denial(OUTSIDE_PROJECT, f"{action} outside the project ({target})", str(target))


def check_write_pattern(text: str, cwd: Path, places: Places, *, deleting: bool) -> None:
    """Like check_write, for a path that may contain glob characters."""
    if not has_glob(text):
        check_write(text, cwd, places, deleting=deleting)
        return
    first = min(i for i, c in enumerate(text) if c in GLOB_CHARS or c == "{")
    prefix, _, _ = text[:first].rpartition("/")
    base = prefix if prefix or not text.startswith("/") else "/"
    base = base or "."
    patterns = text[len(prefix) :].lstrip("/").split("/")
    # Globbed names are children of the literal prefix, so judge a stand-in child.
    check_write(f"{base}/__glob_match__", cwd, places, deleting=deleting)
    base_dir = resolve(base, cwd, places.home)
    dotted = patterns[0].startswith((".", "["))
    if base_dir == places.project and dotted and fnmatch.fnmatchcase(".git", patterns[0]):
        raise Denial(GIT_INTERNALS, f"`{text}` matches the repository's .git", text)
    expanded = expand_tilde(text, places.home) or text
    matches = glob.iglob(os.path.join(str(cwd), expanded))
    for count, match in enumerate(matches):
        if count >= _MAX_GLOB_MATCHES:
            break
        check_write(match, cwd, places, deleting=deleting)


def check_read_pattern(text: str, cwd: Path, places: Places) -> None:
    if not has_glob(text):
        check_read(text, cwd, places)
        return
    first = min(i for i, c in enumerate(text) if c in GLOB_CHARS or c == "{")
    prefix = text[:first]
    check_read(prefix.rpartition("/")[0] or ".", cwd, places)
    # A pattern such as `~/.ss*/id_rsa` may still land in a secret directory.
    probe = re.sub(r"[*?]|\[[^\]]*\]|\{[^}]*\}", "x", text)
    check_read(probe, cwd, places)
    expanded = expand_tilde(text, places.home) or text
    for count, match in enumerate(glob.iglob(os.path.join(str(cwd), expanded))):
        if count >= _MAX_GLOB_MATCHES:
            break
        check_read(match, cwd, places)
