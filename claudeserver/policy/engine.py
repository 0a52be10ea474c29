"""`decide`: the single entry point judging one tool call. It never raises."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import network
from .bash_analyzer import ShellAnalyzer
from .file_tools import READ_PATH_KEYS, SEARCH_TOOLS, decide_file_tool, required_string, target_path
from .model import (
    ASK_NETWORK,
    ASK_RULE,
    INTERNAL_ERROR,
    RULE,
    UNKNOWN_TOOL,
    UNLISTED_DOMAIN,
    UNPARSEABLE,
    Ask,
    Decision,
    Denial,
    PolicyConfig,
    allow,
    deny,
)
from .paths import Places, check_read, places_for, real
from .rules import EDIT_TOOLS, RuleSet, naming

ANALYSIS_SECONDS = 1.0
# Stand-in names the analyzer uses for glob matches, find results and xargs input.
_PLACEHOLDER = re.compile(r"/__(glob_match|found|listed|xargs_item|extracted|glob_item)__")

# Claude Code's own bookkeeping tools: they touch no files, network or processes
# beyond what the agent already controls.
INTERNAL_TOOLS = frozenset(
    {"TodoWrite", "TodoRead", "Task", "Agent", "AskUserQuestion", "ExitPlanMode",
     "EnterPlanMode", "BashOutput", "TaskOutput", "KillShell", "KillBash", "TaskStop",
     "SlashCommand", "Skill", "ListMcpResourcesTool"}
)  # fmt: skip


def decide(
    tool_name: str, tool_input: Mapping[str, Any], config: PolicyConfig, *, cwd: Path | None = None
) -> Decision:
    try:
        return _decide(tool_name, tool_input, config, cwd)
    except Denial as denial:
        return _denied(denial)
    except RecursionError:
        return deny(UNPARSEABLE, "denied: the input is nested too deeply to inspect")
    except Exception as exc:  # fail closed: a policy bug must never let a call through
        return deny(INTERNAL_ERROR, f"denied: internal policy error ({type(exc).__name__})")


def _denied(denial: Denial) -> Decision:
    reason = _PLACEHOLDER.sub("/*", denial.reason)
    command = denial.command
    if not command or reason.startswith("`") or command in reason or len(command) > 200:
        return deny(denial.category, f"denied: {reason}")
    return deny(denial.category, f"denied: `{command}` {reason}")


def _decide(
    tool: str, tool_input: Mapping[str, Any], config: PolicyConfig, cwd: Path | None
) -> Decision:
    if not isinstance(tool_input, Mapping):
        raise Denial(UNPARSEABLE, "the tool input is not an object")
    places = places_for(config)
    rules = RuleSet(
        config.allow_rules, config.deny_rules, places,
        ask=config.ask_rules, approved=config.approved_rules,
    )  # fmt: skip
    here = places.project if cwd is None else real(places.project / cwd)
    if tool == "Bash":
        return _bash(required_string(tool_input, "command"), config, places, rules, here)
    subject: str | Path | None = None
    if tool in EDIT_TOOLS or tool in READ_PATH_KEYS or tool in SEARCH_TOOLS:
        subject = target_path(tool, tool_input, here, places)
        _deny_by_rule(rules, tool, [subject])
        decision = decide_file_tool(tool, tool_input, here, places, rules)
    elif tool == "WebFetch":
        subject = required_string(tool_input, "url")
        decision = _web_fetch(subject, config, places, rules, here)
    elif tool == "WebSearch":
        query = tool_input.get("query")
        subject = query if isinstance(query, str) else None
        _deny_by_rule(rules, tool, [subject])
        if subject is not None:
            network.check_secret_in(subject, "the search query")
        decision = allow("allowed: web search")
    elif tool.startswith("mcp__") or tool == "ReadMcpResourceTool":
        decision = _mcp(tool, tool_input, rules)
    elif tool in INTERNAL_TOOLS:
        _deny_by_rule(rules, tool, [None])
        decision = allow(f"allowed: {tool} is a harmless Claude Code built-in")
    else:
        raise Denial(UNKNOWN_TOOL, f"`{tool}` is not a tool this policy knows")
    return _ask_rule(decision, rules, tool, subject)


def _ask_rule(
    decision: Decision, rules: RuleSet, tool: str, subject: str | Path | None
) -> Decision:
    """A call an `ask_rules` entry names asks (Bash commands are asked about one by one).
    A denial that is not itself a question never becomes one: no person may lift it."""
    rule = rules.asking(tool, [subject])
    if rule is None or (not decision.allowed and decision.ask is None):
        return decision
    named = f"{tool}({subject})" if subject is not None else tool
    ask = Ask(ASK_RULE, f"{named} matches the ask rule `{rule.raw}`", naming(tool, subject))
    return replace(decision, ask=_merged([*_asks(decision), ask]))


def _asks(decision: Decision) -> list[Ask]:
    return [decision.ask] if decision.ask is not None else []


def _merged(asks: list[Ask]) -> Ask:
    """One question for a call that asks for several reasons (the first one's category)."""
    unique = list(dict.fromkeys(asks))
    rules = tuple(dict.fromkeys(r for a in unique for r in a.rules))
    return Ask(unique[0].category, "; ".join(a.question for a in unique), rules)


def _deny_by_rule(rules: RuleSet, tool: str, subjects: list[str | Path | None]) -> None:
    rule = rules.denying(tool, subjects)
    if rule is not None:
        raise Denial(RULE, f"{tool} matches the deny rule `{rule.raw}`")


def _web_fetch(
    url: str, config: PolicyConfig, places: Places, rules: RuleSet, here: Path
) -> Decision:
    _deny_by_rule(rules, "WebFetch", [url])
    parts = urlsplit(url)
    if parts.scheme == "file":
        check_read(unquote(parts.path), here, places)
        return allow(f"allowed: reading {parts.path}")
    host = network.check_fetch(url, config)
    if network.is_loopback(host) or network.listed(host, network.fetch_domains(config)):
        return allow(f"allowed: fetching {url}")
    rule = rules.allowing("WebFetch", [url]) or rules.approving("WebFetch", [url])
    if rule is not None:
        return allow(f"allowed: fetching {url} is permitted by the allow rule `{rule.raw}`")
    unlisted = Denial(
        UNLISTED_DOMAIN,
        f"WebFetch may read documentation and package registries; {host} is not in the "
        f"session's `fetch_domains` (add it there, or an allow rule `WebFetch(domain:{host})`)",
        url,
    )
    question = f"WebFetch reads {url}; {host} is not in the session's `fetch_domains`"
    ask = Ask(ASK_NETWORK, question, naming("WebFetch", f"domain:{host}"))
    return replace(_denied(unlisted), ask=ask)


def _bash(
    command: str, config: PolicyConfig, places: Places, rules: RuleSet, cwd: Path
) -> Decision:
    _deny_by_rule(rules, "Bash", [command])
    analyzer = ShellAnalyzer(config, places, rules, time.monotonic() + ANALYSIS_SECONDS)
    analyzer.analyze(command, cwd)
    decision = allow("allowed: no command in this line is destructive or outside the project")
    if not analyzer.asks:
        return decision
    denial = next((d for _, d in analyzer.asks if d is not None), None)
    if denial is not None:
        decision = _denied(denial)
    return replace(decision, ask=_merged([a for a, _ in analyzer.asks]))


def _mcp(tool: str, tool_input: Mapping[str, Any], rules: RuleSet) -> Decision:
    name = tool
    if tool == "ReadMcpResourceTool":
        name = f"mcp__{tool_input.get('server', '')}"
    _deny_by_rule(rules, name, [None])
    rule = rules.allowing(name, [None])
    if rule is None:
        raise Denial(
            UNKNOWN_TOOL,
            f"MCP tool `{name}` is not named by any allow rule (add e.g. `{name}` to the "
            "allowed rules)",
        )
    return allow(f"allowed: `{name}` is permitted by the allow rule `{rule.raw}`")
