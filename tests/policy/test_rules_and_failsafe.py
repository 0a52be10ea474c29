"""Rule syntax, config switches, fail-closed behaviour and the audit runner."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from claudeserver.policy import PolicyConfig, decide, engine
from claudeserver.policy.audit import run_audit
from claudeserver.policy.rules import bash_matches, parse_rule


def _bash(command: str, config: PolicyConfig) -> tuple[bool, str]:
    decision = decide("Bash", {"command": command}, config)
    return decision.allowed, decision.category


@pytest.mark.parametrize(
    ("spec", "command", "matches"),
    [
        ("npm run test:*", "npm run test", True),
        ("npm run test:*", "npm run test:unit -- --watch", True),
        ("npm run test:*", "npm run build", False),
        ("git push *", "git push origin main", True),
        ("git push *", "git push", True),
        ("git push *", "git pushx", False),
        ("ls", "ls", True),
        ("ls", "ls -la", False),
    ],
)
def test_bash_rule_matching(spec: str, command: str, matches: bool) -> None:
    assert bash_matches(spec, command) is matches


def test_parse_rule() -> None:
    rule = parse_rule("WebFetch(domain:example.com)")
    assert rule is not None and (rule.tool, rule.spec) == ("WebFetch", "domain:example.com")
    bare = parse_rule("Bash")
    assert bare is not None and bare.spec is None
    assert parse_rule("not a (rule") is None


def test_deny_rules_win(config: PolicyConfig) -> None:
    strict = replace(
        config,
        allow_rules=("Bash(npm run *)",),
        deny_rules=(
            "Bash(npm run deploy:*)",
            "Bash(curl:*)",
            "Read(./secrets/**)",
            "Edit(./src/generated/**)",
            "WebFetch(domain:evil.example)",
        ),
    )
    assert _bash("npm run deploy:prod", strict) == (False, "rule")
    assert _bash("npm run build", strict) == (True, "allowed")
    assert _bash("ls && env curl https://x", strict) == (False, "rule")
    read = decide("Read", {"file_path": "secrets/key.txt"}, strict)
    assert (read.allowed, read.category) == (False, "rule")
    edit = decide("Edit", {"file_path": "src/generated/a.py"}, strict)
    assert (edit.allowed, edit.category) == (False, "rule")
    fetch = decide("WebFetch", {"url": "https://api.evil.example/x"}, strict)
    assert (fetch.allowed, fetch.category) == (False, "rule")
    assert decide("WebFetch", {"url": "https://docs.python.org/3/"}, strict).allowed
    assert _bash("ls", replace(config, deny_rules=("Bash",))) == (False, "rule")


def test_allow_rules_lift_only_liftable_categories(config: PolicyConfig, sandbox: Path) -> None:
    lenient = replace(
        config,
        allow_rules=(
            "Bash(git push *)",
            "Bash(redis-cli FLUSHALL)",
            "Bash(python -m http.server *)",
            "Bash(rm -rf ../other-project/build)",
            "Bash(sudo *)",
            "Bash(cat *)",
            "Edit(//opt/shared/**)",
        ),
    )
    assert _bash("git push origin claudeserver/abc123", lenient) == (True, "allowed")
    assert _bash("redis-cli FLUSHALL", lenient) == (True, "allowed")
    assert _bash("python -m http.server 8000", lenient) == (True, "allowed")
    assert _bash("rm -rf ../other-project/build", lenient) == (True, "allowed")
    assert _bash("rm -rf ../other-project", lenient) == (False, "outside_project")
    assert _bash("sudo ls", lenient) == (False, "privilege")
    assert _bash("cat ~/.ssh/id_rsa", lenient) == (False, "secrets")
    assert decide("Write", {"file_path": "/opt/shared/a.txt"}, lenient).allowed
    assert not decide("Write", {"file_path": "/opt/other/a.txt"}, lenient).allowed


def test_config_switches(config: PolicyConfig) -> None:
    pushing = replace(config, allow_git_push=True)
    assert _bash("git push origin main", pushing) == (True, "allowed")
    assert _bash("git push --force origin main", pushing) == (False, "git_remote")
    assert _bash("git push origin +main", pushing) == (False, "git_remote")
    dropping = replace(config, allow_db_destroy=True)
    assert _bash("dropdb scratch", dropping) == (True, "allowed")
    assert _bash("echo FLUSHALL | redis-cli", dropping) == (True, "allowed")


def test_nested_substitution_bomb_denies_fast(config: PolicyConfig) -> None:
    bomb = "echo " + "$(" * 5000 + ")" * 5000
    started = time.monotonic()
    allowed, category = _bash(bomb, config)
    assert time.monotonic() - started < 1.0
    assert not allowed and category == "unparseable"


def test_huge_and_deep_inputs_deny(config: PolicyConfig) -> None:
    assert _bash("echo " + "a" * 200_000, config) == (False, "unparseable")
    nested = "bash -c " + '"$(echo ' * 40 + "x" + ')"' * 40
    assert not _bash(nested, config)[0]


def test_internal_error_fails_closed(config: PolicyConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "places_for", explode)
    decision = decide("Bash", {"command": "ls"}, config)
    assert (decision.allowed, decision.category) == (False, "internal_error")
    assert decision.reason.startswith("denied:")


def test_run_audit(config: PolicyConfig, sandbox: Path) -> None:
    project = str(sandbox / "project")
    lines = [
        json.dumps({"tool": "Bash", "input": {"command": "ls"}, "cwd": project}),
        json.dumps({"tool": "Bash", "input": {"command": "rm -rf ~"}, "cwd": project}),
        '{"tool": "Bash", "input": ',
        json.dumps(["not", "an", "object"]),
        json.dumps({"tool": "Read", "input": {"file_path": "x"}}),
    ]
    seen: list[Path] = []

    def config_for(cwd: Path) -> PolicyConfig:
        seen.append(cwd)
        return config

    results = [json.loads(line) for line in run_audit(lines, config_for=config_for)]
    assert [r["decision"] for r in results] == ["allow", "deny", "deny", "deny", "deny"]
    assert results[1]["category"] == "outside_project"
    assert "JSON" in results[2]["reason"] and results[2]["category"] == "unparseable"
    assert "cwd" in results[4]["reason"]
    assert seen == [Path(project), Path(project)]
    assert set(results[0]) == {"decision", "reason", "category"}
