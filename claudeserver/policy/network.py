"""Which hosts the agent may reach, and whether a URL carries a secret.

Reading the web is limited to an allowlist of hosts (documentation and the package
registries by default). Private, loopback, link-local and cloud metadata addresses are
refused whatever the allowlist says: a fetch of 169.254.169.254 hands out the machine's
cloud credentials, and a private address reaches services no task needs.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

from .model import (
    EXFILTRATION,
    NETWORK_LISTENER,
    PRIVATE_NETWORK,
    UNLISTED_DOMAIN,
    Denial,
    PolicyConfig,
)

DEFAULT_FETCH_DOMAINS = (
    # documentation
    "docs.python.org", "peps.python.org", "readthedocs.io", "readthedocs.org",
    "developer.mozilla.org", "nodejs.org", "typescriptlang.org", "react.dev", "go.dev",
    "pkg.go.dev", "golang.org", "doc.rust-lang.org", "docs.rs", "rust-lang.org",
    "learn.microsoft.com", "docs.oracle.com", "cppreference.com", "man7.org",
    "docs.djangoproject.com", "flask.palletsprojects.com", "fastapi.tiangolo.com",
    "docs.pydantic.dev", "numpy.org", "pandas.pydata.org", "docs.github.com",
    "docs.docker.com", "kubernetes.io", "docs.anthropic.com", "docs.claude.com",
    "ruby-doc.org", "rubydoc.info", "hexdocs.pm", "stackoverflow.com", "github.com",
    "raw.githubusercontent.com",
    # package registries' read endpoints
    "pypi.org", "files.pythonhosted.org", "npmjs.com", "registry.npmjs.org",
    "proxy.golang.org", "sum.golang.org", "crates.io", "static.crates.io",
    "index.crates.io", "rubygems.org", "repo.maven.apache.org", "search.maven.org",
    "nuget.org", "packagist.org",
)  # fmt: skip
_LOCAL_NAMES = re.compile(
    r"(^|\.)(localhost|local|internal|lan|home\.arpa|intranet|corp)$|^metadata$|^instance-data$"
)
# bash opens a network connection for a redirection to these paths.
_RAW_SOCKET = re.compile(r"/dev/(tcp|udp)/")
# A dotted or dashed IPv4 address inside a name (169.254.169.254.nip.io, 10-0-0-1.sslip.io).
_EMBEDDED_IPV4 = re.compile(r"(?<![0-9])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?![0-9])")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_SECRET_ENV = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE|DSN|DATABASE_URL",
    re.IGNORECASE,
)
_SECRET_FORMATS = re.compile(
    r"sk-ant-[A-Za-z0-9_-]{8,}|(?<![A-Za-z0-9])sk-[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|"
    r"glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{30,}|"
    r"-----BEGIN|AIza[0-9A-Za-z_-]{30,}"
)
_SECRET_PARAM = re.compile(
    r"(.*[_-])?(token|secret|passw(or)?d|pwd|api_?key|apikey|key|access_?key|auth|"
    r"authorization|credentials?|session(_?id)?|private_?key|sig|signature)([_-].*)?",
    re.IGNORECASE,
)
_MIN_SECRET_CHARS = 8


def host_of(url: str) -> str:
    """The host a URL (or a bare `host[:port][/path]`, as curl accepts) names."""
    text = url if "://" in url else "http://" + url
    try:
        return (urlsplit(text).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # inet_aton reads the forms browsers and curl also accept: 2130706433, 0x7f.1, 127.1.
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def is_loopback(host: str) -> bool:
    address = _address(host)
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_loopback
    return host == "localhost" or host.endswith(".localhost")


def internal_host(host: str) -> bool:
    """A loopback, private, link-local or metadata address, spelled any way."""
    if not host:
        return True
    address = _address(host)
    if address is not None:
        return _internal(address)
    if _LOCAL_NAMES.search(host):
        return True
    for match in _EMBEDDED_IPV4.finditer(host):
        octets = [int(g) for g in match.groups()]
        if all(o < 256 for o in octets) and _internal(ipaddress.IPv4Address(bytes(octets))):
            return True
    return False


def listed(host: str, domains: tuple[str, ...]) -> bool:
    if "*" in domains:
        return not internal_host(host)
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))


# Names of cloud metadata services; their addresses are link-local (or 100.100.100.200).
_METADATA_NAMES = re.compile(
    r"^(metadata|instance-data)$|^metadata\.google\.internal$|^instance-data\.ec2\.internal$"
)
_METADATA_ADDRESSES = frozenset({ipaddress.IPv4Address("100.100.100.200")})


def proxy_refusal(host: str, domains: Sequence[str], addresses: Sequence[str] = ()) -> str | None:
    """Why a filtering proxy may not connect to `host`, whose name resolved to `addresses`
    (checked first without them, before any lookup); None when it may.

    The hosts of `domains` pass, with their subdomains, and "*" passes any public host.
    A private or loopback address only for a host named outright (an internal package
    mirror, a test's `localhost`), never through "*"; link-local and cloud metadata
    addresses never.
    """
    host = host.lower().rstrip(".")
    lowered = [d.lower() for d in domains]
    named = any(host == d or host.endswith("." + d) for d in lowered if d != "*")
    if _METADATA_NAMES.search(host) or any(_metadata(a) for a in (host, *addresses)):
        return f"{host} is a link-local or cloud metadata address"
    if not named and ("*" not in lowered or internal_host(host)):
        return f"{host} is not one of the session's fetch_domains"
    internal = [a for a in addresses if internal_host(a)]
    if internal and not named:
        return f"{host} leads to {internal[0]}, a private address; name it in fetch_domains"
    return None


def _metadata(text: str) -> bool:
    address = _address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address is not None and (address.is_link_local or address in _METADATA_ADDRESSES)


def fetch_domains(config: PolicyConfig) -> tuple[str, ...]:
    return DEFAULT_FETCH_DOMAINS + config.fetch_domains


def may_receive(host: str, config: PolicyConfig) -> bool:
    """Whether local data may be sent to `host`: the machine itself or a host the session
    listed itself (the default list is of read endpoints, not places to upload to)."""
    return is_loopback(host) or (not internal_host(host) and listed(host, config.fetch_domains))


def _secret_values() -> list[str]:
    return [
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and len(value) >= _MIN_SECRET_CHARS
    ]


def check_raw_socket(code: str) -> None:
    """Deny code (shell or any language) that opens bash's /dev/tcp or /dev/udp socket."""
    if _RAW_SOCKET.search(code):
        raise Denial(NETWORK_LISTENER, "uses /dev/tcp or /dev/udp (a raw network socket)")


def check_secret_in(text: str, what: str) -> None:
    """Deny `text` (a URL, a search query) that carries a credential."""
    decoded = unquote(text)
    parts = urlsplit(text) if "://" in text else None
    if parts is not None and (parts.password or (parts.username and "@" in parts.netloc)):
        raise Denial(EXFILTRATION, f"{what} carries credentials in its user:password part", text)
    query = parts.query + "&" + parts.fragment if parts is not None else ""
    named = [k for k, v in parse_qsl(query) if len(v) >= _MIN_SECRET_CHARS // 2]
    if _SECRET_FORMATS.search(decoded) or any(_SECRET_PARAM.fullmatch(k) for k in named):
        raise Denial(EXFILTRATION, f"{what} carries what looks like a credential", text)
    if any(v in decoded or v in text for v in _secret_values()):
        raise Denial(EXFILTRATION, f"{what} carries the value of a secret environment variable")


def check_fetch(url: str, config: PolicyConfig) -> str:
    """For WebFetch: deny internal addresses and secrets; return the host to allowlist."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Denial(UNLISTED_DOMAIN, f"WebFetch reads only http(s) URLs, not `{parts.scheme}:`")
    host = host_of(url)
    check_secret_in(url, "the URL")
    if internal_host(host):
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if is_loopback(host) and port in config.dev_server_ports:
            return host
        raise Denial(
            PRIVATE_NETWORK,
            f"{host} is a loopback, private, link-local or metadata address; only the "
            "dev server ports the session names (`dev_server_ports`) are reachable",
            url,
            hard=True,
        )
    return host
