"""Claude Code permission rule syntax: `Tool`, `Tool(specifier)`.

Supported specifiers: `Bash(npm run test:*)` (prefix), `Bash(git push *)` (glob),
`Read(~/.ssh/**)` / `Edit(/abs/**)` / `Edit(./src/*.py)` (path globs; `//x` and `/x` are
absolute, `~/` is the home, anything else is relative to the project),
`WebFetch(domain:example.com)` (host and its subdomains), `mcp__server` /
`mcp__server__tool` (no specifier).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .model import DATABASE, GIT_REMOTE, NETWORK_LISTENER, OUTSIDE_PROJECT, Denial
from .paths import Places

_RULE = re.compile(r"^\s*(?P<tool>[A-Za-z0-9_*.\-]+)\s*(?:\((?P<spec>.*)\))?\s*$", re.DOTALL)
EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
READ_TOOLS = frozenset({"Read", "Grep", "Glob", "LS", "NotebookRead"})

# Built-in denials an explicit allow rule may lift. These are the categories where the
# user's own workflow can legitimately need the action (publishing, resetting a dev
# database, exposing a dev server, touching a named sibling path). Privilege escalation,
# secrets, devices, persistence, resource bombs and download-and-execute are never
# liftable: a convenience rule such as `Bash(python *)` must not silently re-enable host
# takeover, and no coding task needs those actions.
_LIFTABLE_BY_ANY_MATCH = frozenset({GIT_REMOTE, DATABASE, NETWORK_LISTENER})


@dataclass(frozen=True)
class Rule:
    tool: str
    spec: str | None
    raw: str


def parse_rule(text: str) -> Rule | None:
    match = _RULE.match(text)
    if match is None:
        return None
    spec = match.group("spec")
    return Rule(match.group("tool"), spec.strip() if spec is not None else None, text)


def naming(tool: str, subject: str | Path | None) -> tuple[str, ...]:
    """The rule naming exactly this call (what a remembered answer adds), if one can."""
    text = tool if subject is None else f"{tool}({subject})"
    return (text,) if parse_rule(text) is not None else ()


def _parse_all(texts: Iterable[str]) -> tuple[Rule, ...]:
    return tuple(r for r in (parse_rule(t) for t in texts) if r is not None)


def _tool_matches(rule_tool: str, tool: str) -> bool:
    if rule_tool == tool:
        return True
    if rule_tool == "Edit" and tool in EDIT_TOOLS:
        return True
    if rule_tool == "Read" and tool in READ_TOOLS:
        return True
    if rule_tool.startswith("mcp__") and tool.startswith(rule_tool + "__"):
        return True
    return "*" in rule_tool and fnmatch.fnmatchcase(tool, rule_tool)


def bash_matches(spec: str, command: str) -> bool:
    command = command.strip()
    if spec.endswith(":*"):
        return command.startswith(spec[:-2])
    if "*" not in spec:
        return command == spec
    optional_tail = spec.endswith(" *")
    body = spec[:-2] if optional_tail else spec
    pattern = ".*".join(re.escape(piece) for piece in body.split("*"))
    if optional_tail:
        pattern += r"(?: .*)?"
    return re.fullmatch(pattern, command, re.DOTALL) is not None


def _path_regex(pattern: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return "".join(out)


def path_matches(spec: str, path: Path, places: Places) -> bool:
    if spec.startswith("~/"):
        base = str(places.home) + spec[1:]
    elif spec.startswith("/"):
        base = "/" + spec.lstrip("/")
    else:
        base = str(places.project / spec.removeprefix("./"))
    regex = _path_regex(base.rstrip("/") or "/")
    # A pattern naming a directory covers what is inside it.
    return re.fullmatch(regex + r"(?:/.*)?", str(path), re.DOTALL) is not None


def _url_matches(spec: str, url: str) -> bool:
    if spec.startswith("domain:"):
        domain = spec[len("domain:") :].lower()
        host = (urlsplit(url).hostname or "").lower()
        return host == domain or host.endswith("." + domain)
    return fnmatch.fnmatchcase(url, spec)


class RuleSet:
    def __init__(
        self,
        allow: Iterable[str],
        deny: Iterable[str],
        places: Places,
        *,
        ask: Iterable[str] = (),
        approved: Iterable[str] = (),
    ) -> None:
        self.allow = _parse_all(allow)
        self.deny = _parse_all(deny)
        self.ask = _parse_all(ask)
        self.approved = _parse_all(approved)
        self.places = places

    def _match(self, rule: Rule, tool: str, subject: str | Path | None) -> bool:
        if not _tool_matches(rule.tool, tool):
            return False
        if rule.spec is None or rule.spec in ("", "*"):
            return True
        if subject is None:
            return False
        if isinstance(subject, Path):
            return path_matches(rule.spec, subject, self.places)
        if tool == "Bash":
            return bash_matches(rule.spec, subject)
        if tool == "WebFetch":
            return _url_matches(rule.spec, subject)
        return fnmatch.fnmatchcase(subject, rule.spec)

    def denying(self, tool: str, subjects: Iterable[str | Path | None]) -> Rule | None:
        listed = list(subjects)
        return next((r for r in self.deny for s in listed if self._match(r, tool, s)), None)

    def allowing(self, tool: str, subjects: Iterable[str | Path | None]) -> Rule | None:
        listed = list(subjects)
        return next((r for r in self.allow for s in listed if self._match(r, tool, s)), None)

    def asking(self, tool: str, subjects: Iterable[str | Path | None]) -> Rule | None:
        """The ask rule naming this call, unless a person's remembered answer does. As in
        Claude Code, allow rules do not silence ask rules."""
        listed = list(subjects)
        rule = next((r for r in self.ask for s in listed if self._match(r, tool, s)), None)
        return None if rule is None or self.approving(tool, listed) else rule

    def approving(self, tool: str, subjects: Iterable[str | Path | None]) -> Rule | None:
        """A person's remembered "allow" for this call (it answers asks only)."""
        listed = list(subjects)
        return next((r for r in self.approved for s in listed if self._match(r, tool, s)), None)

    def lifts_bash(self, denial: Denial, commands: Iterable[str]) -> bool:
        """Whether an allow rule lifts a built-in denial of this simple command."""
        rule = self.allowing("Bash", commands)
        if rule is None or denial.hard:
            return False
        if denial.category in _LIFTABLE_BY_ANY_MATCH:
            return True
        # Outside-project access is only lifted by a rule spelling out the exact command,
        # so `Bash(rm *)` can never authorise `rm -rf ~`.
        exact = rule.spec is not None and "*" not in rule.spec
        return denial.category == OUTSIDE_PROJECT and exact

    def lifts_path(self, tool: str, denial: Denial, path: Path) -> bool:
        """Whether an allow rule naming `path` (e.g. `Read(~/notes/**)`) lifts the denial of
        a path outside the project; secrets and the like are never lifted."""
        if denial.category != OUTSIDE_PROJECT or denial.hard:
            return False
        rule = self.allowing(tool, [path])
        return rule is not None and rule.spec is not None
