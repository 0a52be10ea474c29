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

from claudeserver.domain.policy.paths import ABSOLUTE_SECRETS, HOME_SECRETS

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


def sandbox_settings(allowed_domains: Sequence[str], home: Path | None = None) -> dict[str, Any]:
    """`ClaudeAgentOptions.sandbox` for one task.

    Writes: the CLI allows the working directory, `add_dirs` and its own $TMPDIR and
    nothing else (not /tmp itself). Network: `allowedDomains` pass, any other host makes
    the CLI ask `can_use_tool` with the pseudo tool `SandboxNetworkAccess`, which the
    session denies.
    """
    home = home or Path.home()
    return {
        "enabled": True,
        # A missing bwrap/socat would otherwise only warn and run Bash unconfined.
        "failIfUnavailable": True,
        # Bash calls still go through the permission policy.
        "autoAllowBashIfSandboxed": False,
        # Else the model may retry a blocked command with dangerouslyDisableSandbox.
        "allowUnsandboxedCommands": False,
        "filesystem": {
            "denyRead": [*(str(home / rel) for rel in HOME_SECRETS), *ABSOLUTE_SECRETS],
        },
        "network": {"allowedDomains": list(allowed_domains)},
    }


def describe(mode: str) -> str:
    """The sandbox's state under SANDBOX=`mode`, for /health, `doctor` and the start log."""
    if mode == "off":
        return (
            "off: SANDBOX=off, Bash runs under the permission policy alone and tests run "
            "unconfined (with a scrubbed environment)"
        )
    status = probe()
    if status.available:
        return status.detail
    return (
        f"{status.detail}. SANDBOX={mode}: tasks fail until it can run (tests of "
        "agent-written code never run unconfined unless SANDBOX=off)"
    )
