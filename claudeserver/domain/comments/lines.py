"""Where a review comment sits: a unified diff parsed into files, hunks and numbered
lines; the code around a commented line; and whether a later change touched that line.

Pure functions over text: the diff comes from `workspace.diff`, files from `read_text`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

CONTEXT = 3  # lines of code quoted on each side of a commented line
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}

Opcodes = Sequence[tuple[str, int, int, int, int]]


@dataclass(frozen=True)
class DiffLine:
    mark: str  # " " (unchanged), "-" (removed) or "+" (added)
    text: str
    old: int | None  # its number in the file before the task; None for an added line
    new: int | None  # its number in the file now; None for a removed line
    gap: int  # how many lines of the file now come before it


@dataclass
class FileDiff:
    path: str
    hunks: list[list[DiffLine]] = field(default_factory=list)
    binary: bool = False

    def find(self, side: str, line: int) -> tuple[list[DiffLine], int] | None:
        """The hunk and index of line `line` on `side` ("new" or "old"), if the diff shows it."""
        for hunk in self.hunks:
            for index, item in enumerate(hunk):
                if (item.new if side == "new" else item.old) == line:
                    return hunk, index
        return None

    def shown(self, side: str) -> str:
        """The line ranges the hunks show on `side`, e.g. "3-9, 40-52"."""
        spans = []
        for hunk in self.hunks:
            numbers = [n for n in (d.new if side == "new" else d.old for d in hunk) if n]
            if numbers:
                spans.append(f"{numbers[0]}-{numbers[-1]}")
        return ", ".join(spans) or "none"


def parse_diff(text: str) -> dict[str, FileDiff]:
    """Files by path (as the diff names them, relative to the diffed tree)."""
    files: dict[str, FileDiff] = {}
    current: FileDiff | None = None
    old_left = new_left = 0
    old = new = 0
    for raw in text.split("\n"):
        if old_left > 0 or new_left > 0:
            assert current is not None
            mark, body = raw[:1] or " ", raw[1:]
            if mark == "\\":  # "\ No newline at end of file"
                continue
            item = DiffLine(
                mark, body, old if mark != "+" else None, new if mark != "-" else None,
                gap=new - 1,
            )  # fmt: skip
            current.hunks[-1].append(item)
            if mark != "+":
                old, old_left = old + 1, old_left - 1
            if mark != "-":
                new, new_left = new + 1, new_left - 1
            continue
        if raw.startswith("diff --git "):
            current = FileDiff(_header_path(raw[len("diff --git ") :]))
            files[current.path] = current
        elif current is None:
            continue
        elif raw.startswith(("--- ", "+++ ")) and not current.hunks:
            name = _unquote(raw[4:].rstrip("\t"))
            if name != "/dev/null":
                del files[current.path]
                current.path = name[2:] if name[:2] in ("a/", "b/") else name
                files[current.path] = current
        elif raw.startswith("Binary files "):
            current.binary = True
        elif match := _HUNK.match(raw):
            old, new = int(match[1]), int(match[3])
            old_left = 1 if match[2] is None else int(match[2])
            new_left = 1 if match[4] is None else int(match[4])
            # An empty side names the line before the hunk: it starts one further on.
            old, new = old + (old_left == 0), new + (new_left == 0)
            current.hunks.append([])
    return files


def _header_path(rest: str) -> str:
    """The path of "a/P b/P" (renames are off, so both halves are the same)."""
    if rest.startswith('"'):
        end = re.match(r'"(?:[^"\\]|\\.)*"', rest)
        return _unquote(end[0])[2:] if end else rest
    return rest[2 : 2 + (len(rest) - 5) // 2]


def _unquote(name: str) -> str:
    """A file name as git C-quotes unusual ones ("tab\\there", octal UTF-8 bytes)."""
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    out, body, i = bytearray(), name[1:-1], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if body[i + 1] in "01234567":
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(body[i + 1], ord(body[i + 1])))
            i += 2
            continue
        out += body[i].encode()
        i += 1
    return out.decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """A file's lines as a diff numbers them (split at newlines only)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def file_excerpt(lines: list[str], line: int, context: int = CONTEXT) -> str:
    """Numbered lines around `line` (1-based) of a file, that one marked with ">"."""
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    return "\n".join(
        f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}".rstrip()
        for n in range(first, last + 1)
    )


def hunk_excerpt(hunk: list[DiffLine], index: int, context: int = CONTEXT) -> str:
    """Diff lines around `index` of a hunk, in diff notation."""
    shown = hunk[max(0, index - context) : index + context + 1]
    return "\n".join(f"{d.mark}{d.text}" for d in shown)


def anchor_of(item: DiffLine) -> tuple[int, int]:
    """The lines (0-based, half open) of the file now that a diff line is about: itself, or
    for a removed line the empty place between the lines around where it was."""
    return (item.new - 1, item.new) if item.new is not None else (item.gap, item.gap)


def relocate(lines: list[str], line: int, text: str) -> int:
    """Where line `line`, whose text was `text`, is now: the same number if it still reads
    so, else the nearest line that does, else the same number."""
    if 0 < line <= len(lines) and lines[line - 1] == text:
        return line
    if not text.strip():
        return line  # a blank line could be anywhere
    matches = [n for n, current in enumerate(lines, 1) if current == text]
    return min(matches, key=lambda n: abs(n - line)) if matches else line


def opcodes(before: list[str], after: list[str]) -> Opcodes:
    return difflib.SequenceMatcher(None, before, after).get_opcodes()


def touched(ops: Opcodes, start: int, end: int) -> bool:
    """Whether a change replaced or removed lines [start, end) of the file before it, or
    inserted lines right next to them (for an empty range: changed anything at its edges)."""
    for tag, i1, i2, _, _ in ops:
        if tag == "equal":
            continue
        if start == end or i1 == i2:
            if i1 <= end and i2 >= start:
                return True
        elif i1 < end and i2 > start:
            return True
    return False


def moved(ops: Opcodes, index: int) -> int | None:
    """Where line `index` (0-based) of the file before a change is after it, if unchanged."""
    for tag, i1, i2, j1, _ in ops:
        if tag == "equal" and i1 <= index < i2:
            return j1 + index - i1
    return None
