"""Claude Code's built-in Bash sandbox: can it run here, and the settings that turn it on.

The permission policy judges command strings; it cannot see what a script the agent
wrote does once it runs. So Bash also runs inside Claude Code's sandbox (bubblewrap
plus a socat-bridged filtering proxy on Linux, Seatbelt on macOS): writes outside the
project, its extra directories and the sandbox's own temp dir ($TMPDIR) fail with
"Read-only file system", credential paths read as empty, and network access is limited
to an allowlist of domains.
"""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claudeserver.domain import confinement
from claudeserver.policy import (
    ABSOLUTE_SECRETS,
    HOME_SECRETS,
    Places,
    PolicyConfig,
    home_toolchains,
    places_for,
    within,
)

# Outside the homes, where other people's files live (read-denied with a policy).
UNREADABLE_ROOTS = ("/home", "/root", "/Users", "/mnt", "/media", "/srv", "/run/user")
INSTALL_HINT = "run scripts/install-sandbox (or apt-get install bubblewrap socat)"
# What Claude Code itself runs bwrap with (as root here: a user, net and pid namespace).
_TRIAL = ("--unshare-user", "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/",
          "--dev", "/dev", "--proc", "/proc", "true")  # fmt: skip


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    detail: str  # "ok: bubblewrap 0.8.0" or "unavailable: <why and what to do>"


@functools.lru_cache(maxsize=1)
def probe() -> SandboxStatus:
    """Whether Claude Code's sandbox can start here; checked once per process."""
    system = platform.system()
    if system == "Darwin":
        return SandboxStatus(True, "ok: seatbelt (macOS sandbox-exec)")
    if system != "Linux":
        return _unavailable(f"Claude Code has no Bash sandbox on {system or 'this system'}")
    missing = [pkg for tool, pkg in (("bwrap", "bubblewrap"), ("socat", "socat"))
               if shutil.which(tool) is None]  # fmt: skip
    if missing:
        return _unavailable(f"{' and '.join(missing)} not installed; {INSTALL_HINT}")
    bwrap = shutil.which("bwrap") or "bwrap"
    try:
        trial = subprocess.run(
            [bwrap, *_TRIAL], capture_output=True, text=True, timeout=10, check=False
        )
        version = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return _unavailable(f"{bwrap} could not be run ({exc})")
    if trial.returncode != 0:
        why = trial.stderr.strip() or f"exit status {trial.returncode}"
        return _unavailable(
            f"bubblewrap cannot create a sandbox here ({why}); a container needs user "
            "namespaces (or CAP_SYS_ADMIN) for it"
        )
    return SandboxStatus(True, f"ok: {version or 'bubblewrap'}")


def _unavailable(why: str) -> SandboxStatus:
    return SandboxStatus(False, f"unavailable: {why}")


def sandbox_settings(
    allowed_domains: Sequence[str], home: Path | None = None, *, policy: PolicyConfig | None = None
) -> dict[str, Any]:
    """`ClaudeAgentOptions.sandbox` for one task.

    Writes: the CLI allows the working directory, `add_dirs` and its own $TMPDIR and
    nothing else (not /tmp itself); the pre-existing tests of `policy` are write-denied
    inside that, so no script can change them. Reads: credential files are denied, and
    with `policy` the permission policy's read allowlist is expressed as far as the
    sandbox can: every home directory is denied except the project, its extra dirs and
    the toolchain locations in it. Network: `allowedDomains` pass, any other host makes
    the CLI ask `can_use_tool` with the pseudo tool `SandboxNetworkAccess`, which the
    session denies.
    """
    home = home or Path.home()
    deny_read = [*(str(home / rel) for rel in HOME_SECRETS), *ABSOLUTE_SECRETS]
    filesystem: dict[str, list[str]] = {"denyRead": deny_read}
    if policy is not None:
        places = places_for(policy)
        deny_read.extend(str(p) for p in _unreadable(places))
        # allowRead wins over denyRead beneath it, so it lists only places without secrets:
        # not a writable root that holds a whole home (`extra_dirs: ["~"]`).
        roots = [p for p in places.writable if not any(within(h, p) for h in places.homes)]
        filesystem["allowRead"] = [
            str(p)
            for p in (*roots, *(d for h in places.homes for d in home_toolchains(h)))
            if p.exists()
        ]
        filesystem["denyWrite"] = sorted(str(p) for p in places.protected)
    return {
        "enabled": True,
        # A missing bwrap/socat would otherwise only warn and run Bash unconfined.
        "failIfUnavailable": True,
        # Bash calls still go through the permission policy.
        "autoAllowBashIfSandboxed": False,
        # Else the model may retry a blocked command with dangerouslyDisableSandbox.
        "allowUnsandboxedCommands": False,
        "filesystem": filesystem,
        "network": {"allowedDomains": list(allowed_domains)},
    }


def _unreadable(places: Places) -> list[Path]:
    """Where users keep their files: every home, and the usual mount points."""
    return list(dict.fromkeys((*places.homes, *(Path(p) for p in UNREADABLE_ROOTS))))


def describe(mode: str) -> str:
    """The sandbox's state under SANDBOX=`mode`, for /health, `doctor` and the start log."""
    status = probe()
    if mode == "off":
        git = "; the server's git on task worktrees still runs confined" if status.available else ""
        return (
            "off: SANDBOX=off, Bash runs under the permission policy alone and tests run "
            f"unconfined (with a scrubbed environment){git}"
        )
    if status.available and not confinement.sized_tmpfs():
        return (
            f"{status.detail} (too old to size a tmpfs: the test runs' in-memory /tmp is "
            "not held to WORKSPACE_DISK_LIMIT_MB; bubblewrap 0.7 or later is)"
        )
    if status.available:
        return status.detail
    return (
        f"{status.detail}. SANDBOX={mode}: tasks fail until it can run (tests of "
        "agent-written code never run unconfined unless SANDBOX=off)"
    )
