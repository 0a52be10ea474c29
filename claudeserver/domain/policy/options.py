"""What a user may tune in the policy: server-wide defaults (POLICY_FILE) and per session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import PolicyConfig
from .rules import parse_rule

KEYS = ("extra_dirs", "allow_rules", "deny_rules", "allow_git_push", "allow_db_destroy")


@dataclass(frozen=True)
class PolicyOptions:
    extra_dirs: tuple[Path, ...] = ()
    allow_rules: tuple[str, ...] = ()
    deny_rules: tuple[str, ...] = ()
    allow_git_push: bool | None = None  # None: not said here, the defaults decide
    allow_db_destroy: bool | None = None

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
        rules = {key: _strings(data, key) for key in ("allow_rules", "deny_rules")}
        for key, texts in rules.items():
            for text in texts:
                if parse_rule(text) is None:
                    raise ValueError(
                        f"{key} entry {text!r} is not a rule like Bash(npm run test:*), "
                        "Read(~/.ssh/**), WebFetch(domain:example.com) or a tool name"
                    )
        return cls(
            extra_dirs=dirs,
            allow_rules=tuple(rules["allow_rules"]),
            deny_rules=tuple(rules["deny_rules"]),
            allow_git_push=_flag(data, "allow_git_push"),
            allow_db_destroy=_flag(data, "allow_db_destroy"),
        )

    @classmethod
    def from_file(cls, path: Path) -> PolicyOptions:
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
            "allow_git_push": self.allow_git_push,
            "allow_db_destroy": self.allow_db_destroy,
        }

    def over(self, defaults: PolicyOptions) -> PolicyOptions:
        """These options on top of `defaults`: lists add up, a stated switch wins."""
        return PolicyOptions(
            extra_dirs=defaults.extra_dirs + self.extra_dirs,
            allow_rules=defaults.allow_rules + self.allow_rules,
            deny_rules=defaults.deny_rules + self.deny_rules,
            allow_git_push=_pick(self.allow_git_push, defaults.allow_git_push),
            allow_db_destroy=_pick(self.allow_db_destroy, defaults.allow_db_destroy),
        )

    def config(self, project: Path, protected: frozenset[Path] = frozenset()) -> PolicyConfig:
        return PolicyConfig(
            project_dir=project.resolve(),
            extra_dirs=tuple(d.resolve() for d in self.extra_dirs),
            protected_paths=protected,
            allow_rules=self.allow_rules,
            deny_rules=self.deny_rules,
            allow_git_push=bool(self.allow_git_push),
            allow_db_destroy=bool(self.allow_db_destroy),
        )


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _pick(mine: bool | None, default: bool | None) -> bool | None:
    return default if mine is None else mine
