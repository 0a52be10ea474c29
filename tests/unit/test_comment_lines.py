"""Where review comments sit in a diff, and whether a later change touched their lines."""

from __future__ import annotations

from pathlib import Path

from claudeserver.domain.comments.lines import (
    anchor_of,
    file_excerpt,
    hunk_excerpt,
    moved,
    opcodes,
    parse_diff,
    relocate,
    split_lines,
    touched,
)
from claudeserver.domain.workspace import create_snapshot, diff, read_text
from tests.reviewing import git

BEFORE = "def add(a, b):\n    return a - b\n\n\ndef double(x):\n    return x * 2\n"
AFTER = "def add(a, b):\n    return a + b\n\n\ndef triple(x):\n    return x * 3\n"


def test_git_diffs_number_both_sides_and_name_unusual_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    names = ["math.py", "with space.py", "tåb.py", "gone.py", "blob.bin"]
    for name in names:
        (repo / name).write_text(BEFORE)
    (repo / "blob.bin").write_bytes(b"\0\1")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for name in names[:3]:
        (repo / name).write_text(AFTER)
    (repo / "gone.py").unlink()
    (repo / "blob.bin").write_bytes(b"\0\2")
    (repo / "new.py").write_text("x = 1\n")
    (repo / "empty.py").write_text("")
    git(repo, "add", "-A")

    files = parse_diff(git(repo, "diff", "--cached", "--no-renames"))

    assert sorted(files) == sorted(["blob.bin", "empty.py", "gone.py", "new.py", *names[:3]])
    assert files["blob.bin"].binary and not files["blob.bin"].hunks
    assert files["empty.py"].hunks == []
    math = files["math.py"]
    assert [(d.mark, d.old, d.new) for d in math.hunks[0]] == [
        (" ", 1, 1), ("-", 2, None), ("+", None, 2), (" ", 3, 3), (" ", 4, 4),
        ("-", 5, None), ("-", 6, None), ("+", None, 5), ("+", None, 6),
    ]  # fmt: skip
    assert files["tåb.py"].hunks == math.hunks == files["with space.py"].hunks
    assert [(d.mark, d.old) for d in files["gone.py"].hunks[0]][:2] == [("-", 1), ("-", 2)]
    assert [(d.mark, d.new) for d in files["new.py"].hunks[0]] == [("+", 1)]

    hunk, index = math.find("old", 2) or ([], -1)
    assert hunk[index].text == "    return a - b"
    assert anchor_of(hunk[index]) == (1, 1)  # between new lines 1 and 2
    found = math.find("new", 2)
    assert found is not None and anchor_of(found[0][found[1]]) == (1, 2)
    assert math.find("new", 7) is None and math.shown("old") == "1-6"
    assert hunk_excerpt(hunk, index, context=1) == (
        " def add(a, b):\n-    return a - b\n+    return a + b"
    )


def test_snapshot_diffs_parse_the_same_way(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "math.py").write_text(BEFORE)
    ws = create_snapshot(project, task_id="abcdef12", root=tmp_path / "ws")
    (project / "math.py").write_text(AFTER)
    (project / "link.py").symlink_to(project / "math.py")

    files = parse_diff(diff(ws))

    assert [(d.mark, d.old, d.new) for d in files["math.py"].hunks[0]][:3] == [
        (" ", 1, 1), ("-", 2, None), ("+", None, 2),
    ]  # fmt: skip
    assert read_text(ws, "math.py") == AFTER
    # A symlink is never read through, nor a path out of the workspace.
    assert "link.py" in files and read_text(ws, "link.py") is None
    assert read_text(ws, "../../etc/passwd") is None


def test_a_commented_line_is_quoted_numbered_and_found_again_after_it_moved() -> None:
    lines = split_lines(AFTER)
    assert file_excerpt(lines, 2, context=1) == (
        "  1 | def add(a, b):\n> 2 |     return a + b\n  3 |"
    )
    moved_down = ["# header", "", *lines]
    assert relocate(moved_down, 2, "    return a + b") == 4
    assert relocate(lines, 2, "    gone") == 2  # nowhere now: the number stays
    assert relocate(lines, 3, "") == 3  # a blank line could be anywhere


def test_a_change_touches_a_line_when_it_replaces_removes_or_inserts_next_to_it() -> None:
    before = ["a", "b", "c", "d", "e"]
    b_line = (1, 2)  # the line "b"

    assert touched(opcodes(before, ["a", "B", "c", "d", "e"]), *b_line)  # replaced
    assert touched(opcodes(before, ["a", "c", "d", "e"]), *b_line)  # removed
    assert touched(opcodes(before, ["a", "b", "new", "c", "d", "e"]), *b_line)  # after it
    assert touched(opcodes(before, ["a", "new", "b", "c", "d", "e"]), *b_line)  # before it
    unrelated = opcodes(before, ["x", "a", "b", "c", "D", "e"])
    assert not touched(unrelated, *b_line)
    assert moved(unrelated, 1) == 2  # "b" is one further down now

    # A removed line's place (between "b" and "c"): something put back there, or changed
    # right next to it, touches it; a change further away does not.
    gap = (2, 2)
    assert touched(opcodes(before, ["a", "b", "back", "c", "d", "e"]), *gap)
    assert touched(opcodes(before, ["a", "b", "C", "d", "e"]), *gap)
    assert not touched(opcodes(before, ["a", "b", "c", "d", "E"]), *gap)
