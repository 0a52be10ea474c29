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

from . import readable as readable_places
from .model import (
    DEVICE,
    GIT_INTERNALS,
    NETWORK_LISTENER,
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
    ".ssh", ".aws", ".config/gcloud", ".azure", ".kube", ".docker/config.json", ".netrc",
    ".pgpass", ".gnupg", ".git-credentials", ".pypirc", ".claude/.credentials.json",
    ".claude.json", ".npmrc", ".yarnrc", ".yarnrc.yml", ".config/gh", ".config/hub",
    ".cargo/credentials", ".cargo/credentials.toml", ".config/git/credentials",
    ".gem/credentials", ".m2/settings.xml", ".m2/settings-security.xml",
    ".gradle/gradle.properties", ".terraform.d/credentials.tfrc.json", ".vault-token",
    ".password-store", ".local/share/keyrings", ".config/op", ".mozilla",
    ".config/google-chrome", ".config/chromium", ".config/rclone", ".s3cfg", ".boto",
    ".databrickscfg", ".config/configstore", ".composer/auth.json",
    ".config/composer/auth.json", ".nuget/NuGet/NuGet.Config", ".config/NuGet/NuGet.Config",
    ".hex/hex.config", ".config/doctl", ".fly", ".bash_history", ".zsh_history", ".history",
    ".sh_history", ".python_history", ".node_repl_history", ".psql_history",
    ".mysql_history", ".sqlite_history", ".rediscli_history", ".lesshst", ".viminfo",
    ".local/share/fish/fish_history", ".local/share/recently-used.xbel",
)  # fmt: skip
ABSOLUTE_SECRETS = (
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers",
    "/etc/sudoers.d", "/etc/ssl/private", "/etc/security/opasswd", "/etc/krb5.keytab",
    "/etc/NetworkManager/system-connections", "/etc/wireguard", "/etc/letsencrypt",
    "/etc/pki/tls/private", "/run/secrets", "/var/run/secrets",
)  # fmt: skip
# Files with these names anywhere outside the project hold another project's secrets.
_FOREIGN_SECRET_NAMES = re.compile(r"^\.env(\..*)?$|^\.envrc$")
_SECRET_PATTERNS = (
    (
        re.compile(r"^/proc/[^/]+(/task/[^/]+)?/environ$"),
        "exposes another process's environment variables",
    ),
    (re.compile(r"^/etc/ssh/[^/]*_key$"), "is the machine's SSH private key"),
    # claude-agent-sdk copies the CLI's OAuth credentials here when it resumes a session.
    (
        re.compile(r"^/tmp/claude-resume-[^/]+(/|$)"),
        "holds the Claude CLI's credentials copied for a resume",
    ),
)
_RAW_SOCKET = re.compile(r"^/dev/(tcp|udp)/")

_HOME_PERSISTENCE = (
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc",
    ".zprofile", ".zshenv", ".zlogin", ".zlogout", ".config/fish", ".config/autostart",
    ".config/systemd", ".local/share/systemd", "Library/LaunchAgents", ".gitconfig",
    ".config/git", ".pam_environment", ".xprofile", ".xinitrc", ".xsession",
    ".config/environment.d", ".inputrc", ".vimrc", ".config/nvim", ".local/share/applications",
    ".ssh", ".npmrc", ".pypirc", ".config/pip", ".pip", ".docker",
)  # fmt: skip
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
    readable: tuple[Path, ...] = ()

    @property
    def home(self) -> Path:
        return self.homes[0]


def places_for(config: PolicyConfig) -> Places:
    project = real(config.project_dir)
    home = real(config.home if config.home is not None else Path.home())
    # The agent runs as the real user, so the real home's secrets matter even when a
    # test passes a fake home.
    homes = tuple(dict.fromkeys((home, real(Path.home()))))
    readable = (*_system_readable(), *(d for h in homes for d in home_toolchains(h)))
    return Places(
        project=project,
        writable=(project, *(real(d) for d in config.extra_dirs)),
        homes=homes,
        protected=frozenset(real(p) for p in config.protected_paths),
        temp_roots=_temp_roots(),
        readable=tuple(dict.fromkeys(readable)),
    )


@lru_cache(maxsize=1)
def _temp_roots() -> tuple[Path, ...]:
    roots = ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir())
    return tuple(dict.fromkeys(real(Path(r)) for r in roots))


@lru_cache(maxsize=1)
def _system_readable() -> tuple[Path, ...]:
    system = (Path(p) for p in readable_places.SYSTEM_READABLE)
    return tuple(dict.fromkeys(real(p) for p in (*system, *readable_places.interpreter_prefixes())))


@lru_cache(maxsize=16)
def home_toolchains(home: Path) -> tuple[Path, ...]:
    return tuple(real(d) for d in readable_places.toolchain_dirs(home))


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


def credential_reason(path: Path, places: Places) -> str | None:
    """Why `path` is a credential or a place holding them, or None."""
    for home in places.homes:
        for rel in HOME_SECRETS:
            if within(path, home / rel):
                return f"{path} is inside ~/{rel}, which holds credentials or private history"
    for secret in ABSOLUTE_SECRETS:
        if within(path, Path(secret)):
            return f"{path} holds system credentials"
    text = str(path)
    for pattern, why in _SECRET_PATTERNS:
        if pattern.match(text):
            return f"{path} {why}"
    return None


def secret_reason(path: Path, places: Places) -> str | None:
    """Why reading `path` would expose a credential, or None when it is not a secret."""
    reason = credential_reason(path, places)
    if reason is not None:
        return reason
    if _FOREIGN_SECRET_NAMES.match(path.name) and not within(path, places.project):
        return f"{path} is the {path.name} file of another directory"
    return None


def readable(path: Path, places: Places) -> bool:
    """Inside the project, an extra dir, scratch space or a system/toolchain location."""
    if any(within(path, root) for root in (*places.writable, *places.readable)):
        return True
    if _in_temp(path, places) or readable_places.in_package_dir(path):
        return True
    return any(readable_places.in_transcripts(path, h, places.project) for h in places.homes)


def check_read(text: str, cwd: Path, places: Places, *, recursive: bool = False) -> None:
    """Deny reading a secret, judged both by the spelled path and its symlink target, and
    anything outside the readable places that exists (a name that is nowhere reads
    nothing; a pattern or a regular expression often looks like an absolute path).

    A directory above readable places (`/`, `~`, `/tmp`) may be listed, but not read
    `recursive`ly (`grep -r`, `tar c`), which would walk into everything below it."""
    spelled = lexical(text, cwd, places.home)
    target = real(spelled)
    for candidate in dict.fromkeys((spelled, target)):
        reason = secret_reason(candidate, places)
        if reason is not None:
            raise Denial(SECRETS, f"reads secrets: {reason}", str(candidate))
    if _RAW_SOCKET.match(str(spelled)):
        raise Denial(NETWORK_LISTENER, f"opens a raw network socket ({spelled})", str(spelled))
    if readable(target, places) or not os.path.lexists(spelled):
        return
    if not recursive and target.is_dir() and _above_readable(target, places):
        return
    raise Denial(
        OUTSIDE_PROJECT,
        f"reads {target}, outside the project: only the project, its extra dirs, temp "
        "space and system/toolchain locations are readable (a `Read(...)` allow rule or "
        "`extra_dirs` opens more)",
        str(target),
    )


def _above_readable(directory: Path, places: Places) -> bool:
    roots = (*places.writable, *places.readable, *places.temp_roots, *places.homes)
    return any(within(root, directory) for root in roots)


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
    if _RAW_SOCKET.match(text):
        return Denial(NETWORK_LISTENER, f"opens a raw network socket ({text})", text)
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


def _protected_inside(target: Path, places: Places, *, tree: bool) -> Path | None:
    """The pre-existing test `target` is, or (for `tree` operations: deleting, moving or
    checking out a directory) one it contains."""
    if target in places.protected:
        return target
    if tree:
        return next((p for p in sorted(places.protected) if within(p, target)), None)
    return None


def check_protected(target: Path, places: Places, *, tree: bool) -> None:
    hit = _protected_inside(target, places, tree=tree)
    if hit is None:
        return
    what = f"{hit} is" if hit == target else f"{target} holds {hit},"
    raise Denial(
        PROTECTED_TEST,
        f"{what} a pre-existing regression test; regression tests must not be edited, "
        "moved or deleted",
        str(hit),
    )


def check_write(text: str, cwd: Path, places: Places, *, deleting: bool = False) -> None:
    """Deny writing, deleting or moving `text` unless it is a project/extra/temp path.

    Privilege, credential and persistence locations are denied before the writable roots
    are consulted, so an `extra_dirs` entry of `~` or `/` cannot open them. Deleting or
    moving a directory takes the pre-existing tests inside it along.
    """
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
    if deleting and target in places.writable:
        raise Denial(PROJECT_ROOT, f"{verb} the project directory itself ({target})", text)
    check_protected(target, places, tree=False)
    if within(target, places.project / ".git"):
        raise Denial(GIT_INTERNALS, f"{verb} the repository's .git ({target})", text)
    _check_sensitive(target, places, verb)
    if any(within(target, root) for root in places.writable) or _in_temp(target, places):
        check_protected(target, places, tree=deleting)
        return
    secret = secret_reason(target, places)
    if secret is not None:
        raise Denial(SECRETS, f"{verb} credentials: {secret}", str(target))
    action = "deletes" if deleting else "writes"
    raise Denial(OUTSIDE_PROJECT, f"{action} outside the project ({target})", str(target))


def _check_sensitive(target: Path, places: Places, verb: str) -> None:
    if within(target, Path("/etc/sudoers")) or within(target, Path("/etc/sudoers.d")):
        raise Denial(PRIVILEGE, f"{verb} {target}, granting root privileges", str(target))
    secret = credential_reason(target, places)
    if secret is not None:
        raise Denial(SECRETS, f"{verb} credentials: {secret}", str(target))
    if _is_persistence(target, places):
        raise Denial(
            PERSISTENCE,
            f"{verb} {target}, a startup/config location that would persist beyond the task",
            str(target),
        )


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


def check_read_pattern(text: str, cwd: Path, places: Places, *, recursive: bool = False) -> None:
    if not has_glob(text):
        check_read(text, cwd, places, recursive=recursive)
        return
    expanded = expand_tilde(text, places.home) or text
    for count, match in enumerate(glob.iglob(os.path.join(str(cwd), expanded))):
        if count >= _MAX_GLOB_MATCHES:
            break
        check_read(match, cwd, places, recursive=recursive)
    # A pattern such as `~/.ss*/id_rsa` may still land in a secret directory.
    check_read(re.sub(r"[*?]|\[[^\]]*\]|\{[^}]*\}", "x", text), cwd, places)
    first = min(i for i, c in enumerate(text) if c in GLOB_CHARS or c == "{")
    check_read(
        text[:first].rpartition("/")[0] or ("/" if text.startswith("/") else "."), cwd, places
    )
