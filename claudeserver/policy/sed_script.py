"""The parts of a sed script that reach outside the text stream.

GNU sed runs commands (`e CMD`, the `e` flag of `s///`), writes files (`w FILE`, the `w`
flag) and reads them (`r FILE`, `R FILE`). Everything else only edits the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

_ADDRESS_CHARS = frozenset("0123456789$,~!+ \t")
# Commands whose argument runs to the end of the line, and those whose ends at a `;`.
_TO_LINE_END = frozenset("aicrRwWe")
_TO_SEMICOLON = frozenset("btT:qQlLv")


@dataclass(frozen=True)
class Effect:
    kind: str  # "run" (text is the command; "" runs the pattern space), "write", "read"
    text: str


def effects(script: str) -> list[Effect]:
    found: list[Effect] = []
    index = 0
    while index < len(script):
        index = _skip_address(script, index)
        if index >= len(script):
            break
        command = script[index]
        index += 1
        if command in "sy" and index < len(script):
            index, flags = _substitution(script, index, command == "s")
            if "e" in flags.split("w", 1)[0]:
                found.append(Effect("run", ""))
            if "w" in flags:
                found.append(Effect("write", flags.split("w", 1)[1].strip()))
        elif command in _TO_SEMICOLON:
            index = _line_end(script, index, ";\n")
        elif command in _TO_LINE_END:
            end = _line_end(script, index, "\n")
            argument = script[index:end].strip()
            index = end
            if command == "e":
                found.append(Effect("run", argument))
            elif command in "wW":
                found.append(Effect("write", argument))
            elif command in "rR":
                found.append(Effect("read", argument))
    return found


def _line_end(script: str, index: int, stops: str) -> int:
    while index < len(script) and script[index] not in stops:
        index += 1
    return index


def _skip_address(script: str, index: int) -> int:
    while index < len(script):
        char = script[index]
        if char in _ADDRESS_CHARS or char in ";\n{}":
            index += 1
        elif char == "/" or (char == "\\" and index + 1 < len(script)):
            delimiter = "/" if char == "/" else script[index + 1]
            index = _field_end(script, index + (1 if char == "/" else 2), delimiter)
        else:
            return index
    return index


def _field_end(script: str, index: int, delimiter: str) -> int:
    """The index after the closing delimiter of a field starting at `index`."""
    while index < len(script):
        if script[index] == "\\":
            index += 2
            continue
        if script[index] == delimiter:
            return index + 1
        index += 1
    return index


def _substitution(script: str, index: int, has_flags: bool) -> tuple[int, str]:
    delimiter = script[index]
    index = _field_end(script, index + 1, delimiter)
    index = _field_end(script, index, delimiter)
    if not has_flags:
        return index, ""
    start = index
    while index < len(script) and script[index] not in ";\n}":
        if script[index] == "w":
            index = len(script) if script.find("\n", index) < 0 else script.find("\n", index)
            break
        index += 1
    return index, script[start:index]
