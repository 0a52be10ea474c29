"""Rules for commands that act on the system, other processes, remotes and databases."""

from __future__ import annotations

import re

from . import commands_git
from .argv import has_flag, option_values, positionals, short_flags, texts
from .context import Checker, Handler, Invocation
from .model import (
    DATABASE,
    DEVICE,
    KILL,
    NETWORK_LISTENER,
    OUTSIDE_PROJECT,
    PERSISTENCE,
    PRIVILEGE,
    PUBLISH,
    SYSTEM,
    Denial,
)
from .shell_state import Value, literal_value

_PRIVILEGE = ("sudo", "su", "doas", "pkexec", "runuser", "setcap", "visudo", "chpasswd", "sg")
_SYSTEM = (
    "shutdown", "reboot", "halt", "poweroff", "telinit", "mount", "umount", "iptables",
    "ip6tables", "nft", "ufw", "firewall-cmd", "chroot", "insmod", "rmmod", "modprobe",
    "useradd", "userdel", "usermod", "groupadd", "groupdel", "adduser", "deluser", "passwd",
    "swapon", "swapoff", "kexec", "hostnamectl",
)  # fmt: skip
_DEVICE = (
    "fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted", "wipefs", "blkdiscard",
    "hdparm", "mkswap", "losetup", "cryptsetup", "badblocks",
)  # fmt: skip
_PERSISTENCE = ("at", "batch", "update-rc.d", "chkconfig", "rc-update")
_MASS_KILL = ("pkill", "killall", "killall5", "skill", "xkill")

DB_CLIENTS = frozenset(
    {"psql", "mysql", "mariadb", "mongo", "mongosh", "redis-cli", "sqlite3", "cqlsh",
     "clickhouse-client", "usql", "cockroach", "valkey-cli", "keydb-cli"}
)  # fmt: skip
DB_DANGER = re.compile(
    r"\bdrop\s+(database|schema)\b|\bflush(all|db)\b|\bdropDatabase\s*\(|\bdb:(drop|reset)\b",
    re.IGNORECASE,
)
_CONTAINER_EXEC = ("docker", "podman", "kubectl", "nerdctl")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_ALL_INTERFACES = re.compile(r"^(--(host|bind|ip|address)=)?(0\.0\.0\.0|::|\[::\])(:\d+)?$")
_NET_CLIENTS = frozenset({"curl", "wget", "ping", "ssh", "dig", "host", "nslookup", "echo"})
_SYSTEMCTL_PERSIST = frozenset(
    {"enable", "link", "edit", "set-default", "preset", "reenable", "add-wants", "mask"}
)
_SYSTEMCTL_READ = frozenset({"status", "show", "list-units", "list-unit-files", "is-active",
                             "is-enabled", "is-failed", "cat", "help", "list-timers"})  # fmt: skip


_PUBLISH_VERBS: dict[str, frozenset[str]] = {
    "npm": frozenset({"publish", "unpublish", "deprecate", "dist-tag", "owner", "access"}),
    "pnpm": frozenset({"publish"}),
    "yarn": frozenset({"publish"}),
    "bun": frozenset({"publish"}),
    "twine": frozenset({"upload", "register"}),
    "cargo": frozenset({"publish", "yank", "owner"}),
    "poetry": frozenset({"publish"}),
    "flit": frozenset({"publish"}),
    "hatch": frozenset({"publish"}),
    "uv": frozenset({"publish"}),
    "pdm": frozenset({"publish"}),
    "rye": frozenset({"publish"}),
    "gem": frozenset({"push", "yank", "owner"}),
    "docker": frozenset({"push"}),
    "podman": frozenset({"push"}),
    "helm": frozenset({"push"}),
    "vsce": frozenset({"publish"}),
    "ovsx": frozenset({"publish"}),
    "nuget": frozenset({"push"}),
    "lerna": frozenset({"publish"}),
    "changeset": frozenset({"publish"}),
    "gh": frozenset(),
    "dotnet": frozenset(),
}
_PUBLISH_PAIRS = (
    ["release", "create"], ["release", "upload"], ["release", "edit"], ["gist", "create"],
    ["gist", "edit"], ["nuget", "push"], ["npm", "publish"],
)  # fmt: skip


def _deny(category: str, reason: str) -> Handler:
    def handler(inv: Invocation, an: Checker) -> None:
        raise Denial(category, f"`{inv.name}` {reason}", inv.text)

    return handler


def kill(inv: Invocation, an: Checker) -> None:
    signal_seen = False
    for arg in inv.args:
        text = arg.text
        if text in ("-l", "-L", "--list"):
            return
        if text is not None and text.startswith("-") and not signal_seen and text != "--":
            signal_seen = True
            continue
        if arg.raw == "$!" or (text or "").startswith("%") or text in ("-s", "-n", "--"):
            continue
        raise Denial(
            KILL,
            f"`kill {arg.raw}` may stop a process the agent did not start; only `kill %N` "
            "and `kill $!` are allowed",
            inv.text,
        )


def crontab(inv: Invocation, an: Checker) -> None:
    if texts(inv.args) not in (["-l"], ["-l", "-u"]):
        raise Denial(PERSISTENCE, "`crontab` installs scheduled jobs that outlive the task")


def systemctl(inv: Invocation, an: Checker) -> None:
    verbs = [a.text for a in positionals(inv.args, ("-H", "-M", "--host"))]
    verb = verbs[0] if verbs else "list-units"
    if verb in _SYSTEMCTL_PERSIST:
        raise Denial(PERSISTENCE, f"`systemctl {verb}` installs a service beyond the task")
    if verb not in _SYSTEMCTL_READ:
        raise Denial(SYSTEM, f"`systemctl {verb}` changes system services", inv.text)


def launchctl(inv: Invocation, an: Checker) -> None:
    verb = next(iter(texts(positionals(inv.args))), "list")
    if verb not in ("list", "print", "help", "version"):
        raise Denial(PERSISTENCE, f"`launchctl {verb}` manages login/launch agents", inv.text)


def check_publish(inv: Invocation, an: Checker) -> None:
    """Publishing a package or a release sends the project to the world."""
    if an.config.allow_publish:
        return
    words = texts(positionals(inv.args))
    verbs = _PUBLISH_VERBS.get(inv.name)
    published = (
        (verbs is not None and bool(words) and (words[0] in verbs or words[:2] in _PUBLISH_PAIRS))
        or (
            inv.name in ("mvn", "mvnw")
            and any(w == "deploy" or w.startswith("deploy:") for w in words)
        )
        or (inv.name in ("gradle", "gradlew") and any(w.startswith("publish") for w in words))
        or (inv.name == "setup.py" and "upload" in words)
        or (inv.name == "gh" and words[:1] == ["api"] and _gh_api_writes(inv))
    )
    if published:
        raise Denial(
            PUBLISH,
            f"`{inv.name} {' '.join(words[:2])}` publishes outside this machine; only the "
            "session's `allow_publish` switch allows it",
            inv.text,
            hard=True,
        )


def _gh_api_writes(inv: Invocation) -> bool:
    """`gh api` with a method other than GET or with fields sends data with your token."""
    methods = [m.upper() for m in texts(option_values(inv.args, ("-X", "--method")))]
    fields = option_values(inv.args, ("-f", "-F", "--field", "--raw-field", "--input"))
    return bool(fields) or any(m != "GET" for m in methods)


def database(inv: Invocation, an: Checker) -> None:
    if an.config.allow_db_destroy:
        return
    if inv.name in ("dropdb", "dropuser"):
        raise Denial(DATABASE, f"`{inv.name}` destroys a database", inv.text)
    if inv.name == "mysqladmin" and any(t.lower() == "drop" for t in texts(inv.args)):
        raise Denial(DATABASE, "`mysqladmin drop` destroys a database", inv.text)
    haystack = " ".join(a.text or a.raw for a in inv.args)
    if inv.stdin.kind == "text" and inv.stdin.text is not None:
        haystack += "\n" + inv.stdin.text
    match = DB_DANGER.search(haystack)
    if match is not None:
        raise Denial(DATABASE, f"`{match.group(0)}` destroys database contents", inv.text)


def task_runner(inv: Invocation, an: Checker) -> None:
    """`rails db:drop`, `rake db:reset`, `manage.py flush` style database resets."""
    if an.config.allow_db_destroy:
        return
    for text in texts(inv.args):
        if DB_DANGER.search(text) or text in ("flush", "reset_db"):
            raise Denial(DATABASE, f"`{inv.name} {text}` destroys database contents", inv.text)


def netcat(inv: Invocation, an: Checker) -> None:
    flags = short_flags(inv.args)
    longs = {t.partition("=")[0] for t in texts(inv.args) if t.startswith("--")}
    if flags & set("lec") or longs & {"--listen", "--exec", "--sh-exec", "--lua-exec"}:
        raise Denial(
            NETWORK_LISTENER, f"`{inv.name}` opens a listener or attaches a shell", inv.text
        )


def socat(inv: Invocation, an: Checker) -> None:
    for text in texts(inv.args):
        lower = text.lower()
        if any(k in lower for k in ("exec:", "system:", "listen", "pty")):
            raise Denial(NETWORK_LISTENER, f"`socat {text}` opens a listener or a shell")


def check_bind(inv: Invocation) -> None:
    """Servers bound to every interface expose the machine; loopback servers are fine."""
    if inv.name in _NET_CLIENTS:
        return
    for text in texts(inv.args):
        if _ALL_INTERFACES.match(text):
            raise Denial(
                NETWORK_LISTENER, f"`{inv.name}` listens on all interfaces ({text})", inv.text
            )


def http_server(args: list[Value], inv: Invocation) -> None:
    binds = option_values(args, ("-b", "--bind"))
    if not binds or any(b.text not in _LOCAL_HOSTS for b in binds):
        raise Denial(
            NETWORK_LISTENER,
            "`http.server` listens on all interfaces; pass `--bind 127.0.0.1`",
            inv.text,
        )


def package_manager(inv: Invocation, an: Checker) -> None:
    if inv.name in ("npm", "pnpm", "yarn", "bun"):
        if has_flag(inv.args, "g", ("--global",)) or "global" in texts(inv.args)[:1]:
            raise Denial(
                OUTSIDE_PROJECT, f"`{inv.name}` global installs write outside the project", inv.text
            )
        return
    if "--user" in texts(inv.args):
        raise Denial(OUTSIDE_PROJECT, "`pip --user` installs outside the project", inv.text)
    for target in option_values(inv.args, ("-t", "--target", "--prefix", "--root")):
        an.write(target, inv.state)


def container(inv: Invocation, an: Checker) -> None:
    """Containers are fine, unless they are handed the host itself."""
    args = texts(inv.args)
    host_flags = {"--privileged", "--pid=host", "--userns=host", "--cap-add=ALL"}
    if host_flags & set(args):
        raise Denial(PRIVILEGE, f"`{inv.name}` runs a container with host privileges", inv.text)
    for volume in option_values(inv.args, ("-v", "--volume", "--mount")):
        source = (volume.text or "").split(":", 1)[0].removeprefix("type=bind,source=")
        source = source.removeprefix("src=").split(",", 1)[0]
        host = ("/", "/etc", "/root", "/home", "/var/run/docker.sock", str(an.places.home))
        if source.rstrip("/") in host or source == "/":
            raise Denial(PRIVILEGE, f"`{inv.name}` mounts the host's {source} into a container")
        if source.startswith(("/", "~", ".")):
            an.read(literal_value(source), inv.state, recursive=True)
    database(inv, an)


def sysctl(inv: Invocation, an: Checker) -> None:
    if has_flag(inv.args, "w", ("--write", "--load")) or any("=" in t for t in texts(inv.args)):
        raise Denial(SYSTEM, "`sysctl` changes kernel settings", inv.text)


def init(inv: Invocation, an: Checker) -> None:
    if inv.args:
        raise Denial(SYSTEM, "`init` changes the system run level", inv.text)


HANDLERS: dict[str, Handler] = {
    **{name: _deny(PRIVILEGE, "runs commands with elevated privileges") for name in _PRIVILEGE},
    **{name: _deny(SYSTEM, "changes the host system") for name in _SYSTEM},
    **{name: _deny(DEVICE, "operates on disks or devices") for name in _DEVICE},
    **{name: _deny(PERSISTENCE, "schedules work beyond the task") for name in _PERSISTENCE},
    **{
        name: _deny(KILL, "kills processes by name, including ones the agent did not start")
        for name in _MASS_KILL
    },
    **{name: database for name in (*DB_CLIENTS, "dropdb", "dropuser", "mysqladmin")},
    **{name: container for name in _CONTAINER_EXEC},
    "kill": kill,
    "rails": task_runner,
    "rake": task_runner,
    "manage.py": task_runner,
    "crontab": crontab,
    "systemctl": systemctl,
    "launchctl": launchctl,
    "git": commands_git.git,
    "nc": netcat,
    "netcat": netcat,
    "ncat": netcat,
    "socat": socat,
    "npm": package_manager,
    "pnpm": package_manager,
    "yarn": package_manager,
    "pip": package_manager,
    "pip3": package_manager,
    "sysctl": sysctl,
    "init": init,
}
