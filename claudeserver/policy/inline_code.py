"""Best-effort reading of one-liners (`python -c`, `node -e`, `perl -e`, `ruby -e`).

We do not interpret these languages. We look for the few APIs that delete files or spawn
shells, and insist their arguments are string literals we can check; anything computed
is refused because it is exactly how a blocked `rm -rf ~` gets smuggled through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_STRING = r"""(?P<q>'''|\"\"\"|'|"|`)(?P<s>.*?)(?P=q)"""

_DELETE_APIS = {
    "python": r"\b(?:rmtree|os\.remove|os\.unlink|os\.rmdir|os\.removedirs|unlink|rmdir|"
    r"remove_tree|send2trash)",
    "node": r"\b(?:rmSync|rmdirSync|unlinkSync|rm|rmdir|unlink|rimraf|remove|removeSync|"
    r"emptyDirSync|emptyDir)",
    "perl": r"\b(?:unlink|rmtree|remove_tree|rmdir)",
    "ruby": r"\b(?:rm_rf|rm_r|rm|rm_f|remove_dir|remove_entry|remove_entry_secure|rmtree|"
    r"delete|unlink|rmdir)",
    "php": r"\b(?:unlink|rmdir)",
    "lua": r"\bos\.remove",
    "r": r"\b(?:unlink|file\.remove)",
}
_SHELL_APIS = {
    "python": r"\b(?:os\.system|os\.popen|subprocess\.\w+|check_output|check_call|"
    r"Popen|getoutput|getstatusoutput|os\.exec\w*|os\.spawn\w*|pty\.spawn)",
    "node": r"\b(?:execSync|exec|execFile|execFileSync|spawn|spawnSync|fork)",
    "perl": r"(?:\bsystem|\bexec|\bqx)",
    "ruby": r"(?:\bsystem|\bexec|\bspawn|%x|\bIO\.popen|\bOpen3\.\w+)",
    "php": r"\b(?:system|exec|shell_exec|passthru|popen|proc_open)",
    "lua": r"\b(?:os\.execute|io\.popen)",
    "r": r"\b(?:system2?|shell)",
    "awk": r"\bsystem",
}
_WRITE_APIS = {
    "python": r"\bopen\s*\(\s*" + _STRING + r"\s*,\s*(?P<m>['\"][^'\"]*[wax+][^'\"]*['\"])",
    "node": r"\b(?:writeFileSync|appendFileSync|writeFile|appendFile|createWriteStream)\s*\(\s*"
    + _STRING,
    "ruby": r"\bFile\.(?:write|open)\s*\(\s*" + _STRING + r"(?:\s*,\s*['\"][wa])",
    "perl": r"\bopen\s*\(?\s*\w*\s*,\s*['\"]\s*>>?\s*(?P<q>)(?P<s>[^'\"]+)['\"]",
}
_OBFUSCATION = re.compile(
    r"\b(?:b64decode|a85decode|b32decode|fromCharCode|decode\s*\(\s*['\"](?:base64|hex|rot)|"
    r"getattr\s*\(\s*(?:os|shutil|subprocess)|__import__\s*\(\s*[^'\"]|"
    r"pack\s*\(\s*['\"]H|Buffer\.from\s*\([^)]*base64|codecs\.decode|\\x[0-9a-f]{2})",
    re.IGNORECASE,
)
_DYNAMIC_EVAL = {
    "python": r"(?<![.\w])(?:eval|exec|compile)\s*\(",
    "node": r"\beval\s*\(|\bnew\s+Function\b",
    "perl": r"\beval\s*[(\"'$]",
    "ruby": r"\b(?:eval|instance_eval|class_eval)\b",
    "php": r"\beval\s*\(",
}
_ENV_READ = re.compile(r"os\.environ|process\.env|%ENV|\bENV\b|getenv")
_NETWORK = re.compile(
    r"requests\.|urllib|http\.client|socket|fetch\(|https?\.request|LWP|Net::|httpx|aiohttp|"
    r"axios|XMLHttpRequest|WebSocket|URI\.open|open-uri|curl_exec|ftplib|smtplib|paramiko"
)
# Sending rather than only fetching, or picking up local data to send.
_SENDS = re.compile(
    r"\.(post|put|patch)\s*\(|method\s*[:=]\s*['\"](POST|PUT|PATCH)|\b(data|files|json)\s*=|"
    r"\bbody\s*:|\.send(all|to)?\s*\(|\.write\s*\(|\bupload|storbinary|sendmail|urlopen\s*\([^)]*,",
    re.IGNORECASE,
)
_LOCAL_DATA = re.compile(
    r"\bopen\s*\(|read_text|read_bytes|readFile|createReadStream|File\.read|IO\.read|"
    r"file_get_contents|\bglob\b|listdir|\bwalk\s*\(|\.env\b"
)
_URL = re.compile(r"(?:https?|wss?|ftp)://[^\s'\"`)]+")
_SOCKET_HOST = re.compile(
    r"(?:connect|create_connection|connect_ex)\s*\(\s*\(?\s*['\"](?P<h>[^'\"]+)['\"]"
)
_REVERSE_SHELL = re.compile(r"socket[\s\S]*(dup2|pty\.spawn|/bin/(ba)?sh)|\.listen\s*\(")
_PATHISH = re.compile(_STRING)
_AWK_PIPE_FROM = re.compile(r'"(?P<s>[^"]*)"\s*\|&?\s*getline')
_AWK_PIPE_TO = re.compile(r'(?<!\|)\|&?\s*"(?P<s>[^"]*)"')
_AWK_WRITE = re.compile(r'(?<![<>=!])>>?\s*"(?P<s>[^"]*)"')


@dataclass(frozen=True)
class Finding:
    """kind: delete | write | shell | argv | obfuscated | exfiltration | upload | listener |
    literal"""

    kind: str
    text: str | None  # the literal involved, or None when it is computed at run time
    snippet: str


@dataclass(frozen=True)
class Call:
    """A call of an API the scan looks for: its name, where it stands, its arguments."""

    name: str
    at: int
    args: str


def _call_args(code: str, start: int) -> str:
    """The text of the call's argument list beginning at `start` (best effort)."""
    rest = code[start:].lstrip()
    if not rest.startswith("("):
        return rest.split(";", 1)[0].split("\n", 1)[0]
    depth = 0
    for index, char in enumerate(rest):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return rest[1:index]
    return rest[1:]


def _first_literal(args: str) -> str | None:
    match = re.match(r"\s*(?:Path\s*\(\s*)?" + _STRING + r"\s*\)?\s*(?:,|$)", args, re.DOTALL)
    return match.group("s") if match else None


def _list_literals(args: str) -> list[str] | None:
    match = re.match(r"\s*\[(?P<items>[^\]]*)\]", args)
    if match is None:
        return None
    items = [m.group("s") for m in _PATHISH.finditer(match.group("items"))]
    leftover = _PATHISH.sub("", match.group("items")).replace(",", "").strip()
    return None if leftover else items


def scan(language: str, code: str) -> list[Finding]:
    findings: list[Finding] = []
    obfuscated = _OBFUSCATION.search(code) or re.search(_DYNAMIC_EVAL.get(language, "$^"), code)
    if obfuscated:
        findings.append(Finding("obfuscated", None, obfuscated.group(0)))
    if _ENV_READ.search(code) and _NETWORK.search(code):
        findings.append(Finding("exfiltration", None, "environment sent over the network"))
    if _NETWORK.search(code) and (_SENDS.search(code) or _LOCAL_DATA.search(code)):
        hosts = [m.group(0) for m in _URL.finditer(code)]
        hosts += [m.group("h") for m in _SOCKET_HOST.finditer(code)]
        findings.append(Finding("upload", "\0".join(hosts) or None, "sends data over the network"))
    if _REVERSE_SHELL.search(code):
        findings.append(Finding("listener", None, "socket attached to a shell or listening"))
    findings.extend(_deletions(language, code))
    findings.extend(_shell_calls(language, code))
    write_api = _WRITE_APIS.get(language)
    if write_api is not None:
        for match in re.finditer(write_api, code, re.DOTALL):
            findings.append(Finding("write", match.group("s"), match.group(0)))
    for match in _PATHISH.finditer(code):
        findings.append(Finding("literal", match.group("s"), match.group(0)))
    if language == "perl" or language == "ruby":
        for match in re.finditer(r"`(?P<s>[^`]*)`", code):
            findings.append(Finding("shell", match.group("s"), match.group(0)))
    if language == "awk":
        findings.extend(_awk(code))
    return findings


def _awk(code: str) -> list[Finding]:
    """awk pipes (`"cmd" | getline`, `print | "cmd"`, `|&`) run commands; `print > "f"`
    writes files."""
    found = [Finding("shell", m.group("s"), m.group(0)) for m in _AWK_PIPE_FROM.finditer(code)]
    found += [Finding("shell", m.group("s"), m.group(0)) for m in _AWK_PIPE_TO.finditer(code)]
    found += [Finding("write", m.group("s"), m.group(0)) for m in _AWK_WRITE.finditer(code)]
    stripped = _AWK_PIPE_FROM.sub("", _AWK_PIPE_TO.sub("", code))
    if re.search(r"\|\s*getline|\|&", stripped):
        found.append(Finding("shell", None, "a command built at run time piped to getline"))
    return found


def _calls(apis: dict[str, str], language: str, code: str, opens: str) -> Iterator[Call]:
    """Each call of one of the language's `apis`, followed by `opens` (a lookahead)."""
    api = apis.get(language)
    if api is None:
        return
    for match in re.finditer(api + opens, code):
        yield Call(match.group(0), match.start(), _call_args(code, match.end()))


def _deletions(language: str, code: str) -> list[Finding]:
    found: list[Finding] = []
    for call in _calls(_DELETE_APIS, language, code, r"(?=\s*\(|\s+['\"$])"):
        literal = _first_literal(call.args)
        if literal is None and language == "python" and call.name in ("unlink", "rmdir"):
            # pathlib: Path('x').unlink() carries its path before the method name.
            before = re.search(r"Path\s*\(\s*" + _STRING + r"\s*\)\s*\.\s*$", code[: call.at])
            literal = before.group("s") if before else None
        found.append(Finding("delete", literal, call.name + "(" + call.args[:60] + ")"))
    return found


def _shell_calls(language: str, code: str) -> list[Finding]:
    found: list[Finding] = []
    for call in _calls(_SHELL_APIS, language, code, r"(?=\s*[\(\{\[]|\s+['\"])"):
        items = _list_literals(call.args)
        if items is not None:
            found.append(Finding("argv", "\0".join(items), call.name))
            continue
        found.append(Finding("shell", _first_literal(call.args), call.name + "(" + call.args[:60]))
    return found
