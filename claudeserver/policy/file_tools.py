"""Decisions for Claude Code's file tools (Write/Edit/Read/Grep/Glob...)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import UNPARSEABLE, Decision, Denial, allow
from .paths import Places, check_read, check_read_pattern, check_write, has_glob, resolve
from .rules import EDIT_TOOLS, RuleSet

READ_PATH_KEYS = {"Read": "file_path", "NotebookRead": "notebook_path"}
SEARCH_TOOLS = frozenset({"Grep", "Glob", "LS"})


def required_string(tool_input: Mapping[str, Any], key: str) -> str:
    value = tool_input.get(key)
    if not isinstance(value, str) or not value:
        raise Denial(UNPARSEABLE, f"the tool input has no `{key}` string")
    return value


def target_path(tool: str, tool_input: Mapping[str, Any], cwd: Path, places: Places) -> Path:
    """The path a file tool acts on, resolved (used to match path rules)."""
    if tool in EDIT_TOOLS:
        key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    elif tool in READ_PATH_KEYS:
        key = READ_PATH_KEYS[tool]
    else:
        text = tool_input.get("path")
        return resolve(text if isinstance(text, str) and text else str(cwd), cwd, places.home)
    return resolve(required_string(tool_input, key), cwd, places.home)


def decide_file_tool(
    tool: str, tool_input: Mapping[str, Any], cwd: Path, places: Places, rules: RuleSet
) -> Decision:
    if tool in EDIT_TOOLS:
        key = "notebook_path" if tool == "NotebookEdit" else "file_path"
        text = required_string(tool_input, key)
        try:
            check_write(text, cwd, places)
        except Denial as denial:
            if not rules.lifts_path(tool, denial, resolve(text, cwd, places.home)):
                raise
            return allow(f"allowed: {tool} of {text} is permitted by an allow rule")
        return allow(f"allowed: {tool} inside the writable area ({text})")
    if tool in READ_PATH_KEYS:
        text = required_string(tool_input, READ_PATH_KEYS[tool])
        _read(tool, text, cwd, places, rules)
        return allow(f"allowed: reading {text}")
    path = tool_input.get("path")
    path_text = path if isinstance(path, str) and path else str(cwd)
    _read(tool, path_text, cwd, places, rules, recursive=tool != "LS")
    pattern = tool_input.get("pattern")
    if tool == "Glob" and isinstance(pattern, str) and pattern.startswith(("/", "~", "..")):
        base = resolve(path_text, cwd, places.home)
        if has_glob(pattern):
            check_read_pattern(pattern, base, places)
        else:
            _read(tool, pattern, base, places, rules)
    return allow(f"allowed: {tool} in {path_text}")


def _read(
    tool: str, text: str, cwd: Path, places: Places, rules: RuleSet, *, recursive: bool = False
) -> None:
    """check_read, unless an allow rule names the place (`Read(~/notes/**)`)."""
    try:
        check_read(text, cwd, places, recursive=recursive)
    except Denial as denial:
        if not rules.lifts_path(tool, denial, resolve(text, cwd, places.home)):
            raise
