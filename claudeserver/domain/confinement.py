"""Running workspace code confined: the test gate's baseline and rounds, and test_command.

Everything in a workspace is untrusted: the agent wrote part of it, and a conftest.py,
a package.json script or a Makefile runs whatever it says. So the server never runs it
with its own rights. It runs under bubblewrap, the engine Claude Code's own Bash sandbox
uses on Linux (the server needs it installed anyway): the whole filesystem read-only,
the workspace and a private home writable, credential paths and the server's own data
empty, a private /tmp, its own PID, IPC and network namespaces (only the tests' own
loopback, unless the session bridges in named host services, lets the runs reach its
fetch_domains through a filtering proxy, or opts into the host's network), limits on
processes and file size, and an environment that holds nothing of the server's (no API
tokens, webhook secrets, database URLs, model credentials).

Why bubblewrap directly rather than `@anthropic-ai/sandbox-runtime` (`srt`): srt is a
Node package that would put npm and its proxy in front of every test run, and its Linux
backend is this same bwrap; most runs need no proxy (no network at all by default), the
one a "fetch_domains" run needs is a small asyncio server of ours (domain_proxy.py), and
a read-only bind of each protected test file and a private home are plain bwrap
arguments.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from claudeserver.domain import domain_proxy
from claudeserver.domain.service_bridge import Service
from claudeserver.policy import ABSOLUTE_SECRETS, HOME_SECRETS

# "loopback": only the run's own loopback; "fetch_domains": that, and the hosts the
# session's agent may reach through a filtering proxy (domain_proxy.py); "host": the
# host's whole network.
Network = Literal["loopback", "fetch_domains", "host"]

# Limits for every confined process tree. Processes are counted per sandbox (its own
# user namespace), so a fork loop stops there; one file may not outgrow this.
MAX_PROCESSES = 1024
MAX_FILE_BYTES = 1024**3

# Variables of the server's environment a test run may see: where programs are, the
# locale and terminal, toolchain locations, and which pytest plugins the server's own
# interpreter loads (it runs the tests of projects without a virtualenv). Everything else
# (API_TOKENS, WEBHOOK_SECRET, DATABASE_URL, ANTHROPIC_API_KEY, cloud credentials, ...)
# stays out.
PASSED_VARIABLES = frozenset(
    {
        "PATH", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL",
        "JAVA_HOME", "GOROOT", "GOPATH", "GOMODCACHE", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN",
        "PYENV_ROOT", "PYENV_VERSION", "NVM_DIR", "NVM_BIN",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS",
    }
)  # fmt: skip


def scrubbed_environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a test run's environment holds: the harmless variables of ours, a private
    home with its tool caches, and `extra` (the runner's own settings)."""
    env = {k: v for k, v in os.environ.items() if k in PASSED_VARIABLES or k.startswith("LC_")}
    real_home = Path.home()
    # Toolchains found through HOME keep working when HOME moves to the private one.
    if "RUSTUP_HOME" not in env and (real_home / ".rustup").is_dir():
        env["RUSTUP_HOME"] = str(real_home / ".rustup")
    if "GOMODCACHE" not in env and (real_home / "go" / "pkg" / "mod").is_dir():
        env["GOMODCACHE"] = str(real_home / "go" / "pkg" / "mod")
    cache = home / ".cache"
    env.update(
        HOME=str(home),
        TMPDIR="/tmp",
        XDG_CACHE_HOME=str(cache),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        npm_config_cache=str(home / ".npm"),
        PIP_CACHE_DIR=str(cache / "pip"),
        GOCACHE=str(cache / "go-build"),
        CARGO_HOME=str(home / ".cargo"),
    )
    env.update(extra or {})
    return env


def _cargo_registry() -> Path | None:
    """The crates already downloaded, so a project's offline `cargo test` builds."""
    registry = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo") / "registry"
    return registry if registry.is_dir() else None


@dataclass(frozen=True)
class Confinement:
    """Where a confined run may write, what it may read beyond the read-only system, what
    it may not even see, and whether it has the host's network."""

    workspace: Path
    home: Path
    network: Network = "loopback"
    # Outside the workspace but needed read-only, e.g. the user's checkout's .venv or
    # node_modules when it lives under a hidden directory.
    readable: tuple[Path, ...] = ()
    # Inside the workspace but not writable: pre-existing test files, the .git pointer.
    read_only: tuple[Path, ...] = ()
    # Beyond the credential paths: the server's database, token and other workspaces.
    hidden: tuple[Path, ...] = ()
    limits: tuple[str, ...] = field(
        default=(f"--nproc={MAX_PROCESSES}", f"--fsize={MAX_FILE_BYTES}", "--core=0")
    )
    # False only under SANDBOX=off: the limits, environment and home still apply.
    sandboxed: bool = True
    # Services on the host's loopback the tests may use (a database) without the host's
    # network; see domain/service_bridge.py.
    services: tuple[Service, ...] = ()
    # The hosts a "fetch_domains" run may reach through the proxy.
    fetch_domains: tuple[str, ...] = ()
    # The size of the run's private /tmp (memory), where bwrap can set one; None: the
    # kernel's default, half the memory.
    tmp_bytes: int | None = None

    @property
    def bridged_services(self) -> tuple[Service, ...]:
        """The services that need a bridge: none when the run shares the host's network."""
        return self.services if self.sandboxed and self.network != "host" else ()

    @property
    def proxy(self) -> Service | None:
        """Where the run reaches the filtering proxy, for a "fetch_domains" run."""
        if not self.sandboxed or self.network != "fetch_domains":
            return None
        taken = {s.port for s in self.bridged_services}
        port = domain_proxy.PORT
        while port in taken:
            port += 1
        return Service("127.0.0.1", port)

    def command(self, argv: Sequence[str], writable: Iterable[Path] = ()) -> list[str]:
        """`argv` wrapped: prlimit sets the limits, bwrap builds the sandbox.

        `writable` are extra host directories the run writes results to (a report).
        """
        self.home.mkdir(parents=True, exist_ok=True)
        prlimit = shutil.which("prlimit")
        limits = [prlimit, *self.limits, "--"] if prlimit else []
        if not self.sandboxed:
            return [*limits, *argv]
        return [*limits, *self._bwrap(writable), *argv]

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        proxy = self.proxy
        through = domain_proxy.environment(proxy.port) if proxy is not None else {}
        return scrubbed_environment(self.home, {**through, **extra})

    def _bwrap(self, writable: Iterable[Path]) -> list[str]:
        bwrap = shutil.which("bwrap") or "bwrap"
        args = [
            bwrap, "--die-with-parent", "--new-session", "--unshare-all",
            *(["--share-net"] if self.network == "host" else []),
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            *(["--size", str(self.tmp_bytes)] if self.tmp_bytes and sized_tmpfs() else []),
            "--tmpfs", "/tmp",
        ]  # fmt: skip
        for path in (*_secret_paths(), *self.hidden):
            args += _hide(path)
        # The server's own Python runs projects that have no virtualenv: wherever it lives
        # (a checkout under /tmp, say), the private /tmp must not hide it.
        for path in (*self.readable, Path(sys.prefix), Path(sys.base_prefix)):
            if path.exists():
                args += ["--ro-bind", str(path), str(path)]
        for path in (self.workspace, self.home, *writable):
            args += ["--bind", str(path), str(path)]
        registry = _cargo_registry()
        if registry is not None:
            args += ["--ro-bind", str(registry), str(self.home / ".cargo" / "registry")]
        for path in self.read_only:
            if path.exists() and not path.is_symlink():
                args += ["--ro-bind", str(path), str(path)]
        # No --chdir: bwrap keeps the caller's working directory, the project inside the
        # workspace.
        return [*args, "--"]


@functools.lru_cache(maxsize=1)
def sized_tmpfs() -> bool:
    """Whether this bwrap can size a tmpfs (`--size`, bubblewrap 0.7 and later)."""
    try:
        usage = subprocess.run(
            [shutil.which("bwrap") or "bwrap", "--help"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in usage.stdout + usage.stderr


def _secret_paths() -> list[Path]:
    home = Path.home()
    return [*(home / rel for rel in HOME_SECRETS), *(Path(p) for p in ABSOLUTE_SECRETS)]


def _hide(path: Path) -> list[str]:
    """Bind arguments that make `path` read as empty; nothing for a path that is absent."""
    if path.is_dir() and not path.is_symlink():
        return ["--tmpfs", str(path)]
    if path.exists():
        return ["--ro-bind", "/dev/null", str(path)]
    return []
