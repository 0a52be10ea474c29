"""What a user may tune in the policy: server-wide defaults (POLICY_FILE) and per session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .model import PolicyConfig
from .rules import parse_rule

SWITCHES = ("allow_git_push", "allow_force_push", "allow_db_destroy", "allow_publish")
RULE_KEYS = ("allow_rules", "deny_rules", "ask_rules", "approved_rules")
KEYS = (
    "extra_dirs", *RULE_KEYS, "fetch_domains", "dev_server_ports", "ask_deletes_over", *SWITCHES
)  # fmt: skip
DEFAULT_ASK_DELETES_OVER = 20
T = TypeVar("T")


@dataclass(frozen=True)
class PolicyOptions:
    extra_dirs: tuple[Path, ...] = ()
    allow_rules: tuple[str, ...] = ()
    deny_rules: tuple[str, ...] = ()
    ask_rules: tuple[str, ...] = ()
    # Calls a person allowed with `remember`: they answer those calls' asks.
    approved_rules: tuple[str, ...] = ()
    fetch_domains: tuple[str, ...] = ()
    dev_server_ports: tuple[int, ...] = ()
    # None: not said here, the defaults decide.
    ask_deletes_over: int | None = None
    allow_git_push: bool | None = None
    allow_force_push: bool | None = None
    allow_db_destroy: bool | None = None
    allow_publish: bool | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyOptions:
        """Validate user input; ValueError messages say which key is wrong and why."""
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ValueError(f"unknown policy keys {unknown}; known: {', '.join(KEYS)}")
        dirs = tuple(Path(d) for d in _strings(data, "extra_dirs"))
        for directory in dirs:
            if not directory.is_absolute():
                raise ValueError(f"extra_dirs entry {str(directory)!r} must be an absolute path")
        rules = {key: _strings(data, key) for key in RULE_KEYS}
        for key, texts in rules.items():
            for text in texts:
                if parse_rule(text) is None:
                    raise ValueError(
                        f"{key} entry {text!r} is not a rule like Bash(npm run test:*), "
                        "Read(~/.ssh/**), WebFetch(domain:example.com) or a tool name"
                    )
        domains = tuple(d.lower().strip(".") for d in _strings(data, "fetch_domains"))
        for domain in domains:
            if domain != "*" and ("/" in domain or ":" in domain or " " in domain):
                raise ValueError(
                    f"fetch_domains entry {domain!r} must be a host name such as docs.rs "
                    '(subdomains included), or "*" for any public host'
                )
        return cls(
            extra_dirs=dirs,
            allow_rules=tuple(rules["allow_rules"]),
            deny_rules=tuple(rules["deny_rules"]),
            ask_rules=tuple(rules["ask_rules"]),
            approved_rules=tuple(rules["approved_rules"]),
            fetch_domains=domains,
            dev_server_ports=_ports(data),
            ask_deletes_over=_count(data, "ask_deletes_over"),
            **{key: _flag(data, key) for key in SWITCHES},
        )

    @classmethod
    def from_file(cls, path: Path | None) -> PolicyOptions:
        """The server-wide defaults in POLICY_FILE (none: the built-in ones)."""
        if path is None:
            return cls()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"POLICY_FILE {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"POLICY_FILE {path}: expected a JSON object")
        try:
            return cls.from_json(data)
        except ValueError as exc:
            raise ValueError(f"POLICY_FILE {path}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "extra_dirs": [str(d) for d in self.extra_dirs],
            "allow_rules": list(self.allow_rules),
            "deny_rules": list(self.deny_rules),
            "ask_rules": list(self.ask_rules),
            "approved_rules": list(self.approved_rules),
            "fetch_domains": list(self.fetch_domains),
            "dev_server_ports": list(self.dev_server_ports),
            "ask_deletes_over": self.ask_deletes_over,
            **{key: getattr(self, key) for key in SWITCHES},
        }

    def over(self, defaults: PolicyOptions) -> PolicyOptions:
        """These options on top of `defaults`: lists add up, a stated switch wins."""
        return PolicyOptions(
            extra_dirs=defaults.extra_dirs + self.extra_dirs,
            allow_rules=defaults.allow_rules + self.allow_rules,
            deny_rules=defaults.deny_rules + self.deny_rules,
            ask_rules=defaults.ask_rules + self.ask_rules,
            approved_rules=defaults.approved_rules + self.approved_rules,
            fetch_domains=defaults.fetch_domains + self.fetch_domains,
            dev_server_ports=defaults.dev_server_ports + self.dev_server_ports,
            ask_deletes_over=_pick(self.ask_deletes_over, defaults.ask_deletes_over),
            **{key: _pick(getattr(self, key), getattr(defaults, key)) for key in SWITCHES},
        )

    def config(self, project: Path, protected: frozenset[Path] = frozenset()) -> PolicyConfig:
        return PolicyConfig(
            project_dir=project.resolve(),
            extra_dirs=tuple(d.resolve() for d in self.extra_dirs),
            protected_paths=protected,
            allow_rules=self.allow_rules,
            deny_rules=self.deny_rules,
            ask_rules=self.ask_rules,
            approved_rules=self.approved_rules,
            ask_deletes_over=self.ask_deletes_over or DEFAULT_ASK_DELETES_OVER,
            fetch_domains=self.fetch_domains,
            dev_server_ports=self.dev_server_ports,
            allow_git_push=bool(self.allow_git_push),
            allow_force_push=bool(self.allow_force_push),
            allow_db_destroy=bool(self.allow_db_destroy),
            allow_publish=bool(self.allow_publish),
        )


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return value


def _ports(data: Mapping[str, Any]) -> tuple[int, ...]:
    value = data.get("dev_server_ports") or []
    valid = isinstance(value, list) and all(
        isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in value
    )
    if not valid:
        raise ValueError("dev_server_ports must be a list of port numbers (1-65535)")
    return tuple(value)


def _count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{key} must be a whole number of files, at least 1")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _pick(mine: T | None, default: T | None) -> T | None:
    return default if mine is None else mine
