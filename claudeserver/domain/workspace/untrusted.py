"""Git on a task's worktree, whose files the agent wrote.

The agent controls what is in the worktree: its `.gitattributes` choose which files go
through which filter or diff driver, its `.git` pointer says which repository git uses,
a nested repository brings a configuration of its own. So the server's git there (add,
diff, commit, the branch it is on) runs nothing any configuration names:

- the git directory is named outright (`--git-dir`, `--work-tree`), from a `.git` pointer
  checked to lead to its entry in the repository and back (a rewritten one is refused);
- no system or global configuration, and of the repository's own, every setting that
  runs a command is off for the call: each filter, diff and merge driver it defines
  (git-lfs's too), hooks, fsmonitor, pager, editor, ssh command, credential helpers,
  automatic gc; the work trees of submodules are not looked into;
- the call runs confined like a test run (domain/confinement.py): the filesystem
  read-only but for the git directories a commit writes (objects, refs, logs and the
  worktree's own entry), no network, a scrubbed environment, so whatever might still be
  missed could change nothing else.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from claudeserver.domain import sandbox
from claudeserver.domain.confinement import Confinement
from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.git import (
    FIXED_ENV,
    UNTRUSTED_TREE,
    GitResult,
    command,
    execute,
    git_env,
)

# Settings that would run a command, set so that they run none. An empty value switches
# a command off (an empty credential.helper also drops the helpers configured before).
NO_CODE = (
    "core.sshCommand=",
    "core.gitProxy=",
    "core.askPass=",
    "credential.helper=",
    "core.pager=cat",
    "core.editor=true",
    "sequence.editor=true",
    "diff.external=",
    "core.alternateRefsCommand=",
    "gc.auto=0",
    "maintenance.auto=false",
    # `dirty` still shows a submodule's new commit, but never runs git inside it.
    "diff.ignoreSubmodules=dirty",
    "submodule.recurse=false",
    "status.submoduleSummary=false",
    "protocol.allow=never",
)
# Per driver the configuration defines: the keys that name its commands. A driver whose
# command is empty is skipped (filters) or fails (textconv, merge drivers): nothing runs.
_DRIVER_KEYS = {
    "filter": ("clean=", "smudge=", "process=", "required=false"),
    "diff": ("textconv=", "command="),
    "merge": ("driver=",),
}


def code_off(*, cwd: Path, env: dict[str, str], front: Sequence[str] = ()) -> tuple[str, ...]:
    """`-c` settings that switch off everything the configuration git sees in `cwd` (with
    `env` and the global options `front`) would run."""
    listing = execute(
        command(["config", "-z", "--name-only", "--get-regexp", r"^(filter|diff|merge)\."],
                front=front),
        what="config", cwd=cwd, env=env, ok=(0, 1),
    )  # fmt: skip
    drivers: set[tuple[str, str]] = set()
    for key in listing.stdout.split("\0"):
        section, _, rest = key.partition(".")
        name, dot, _ = rest.rpartition(".")
        if dot and name and section.lower() in _DRIVER_KEYS:  # not diff.renames and such
            drivers.add((section.lower(), name))
    options = list(NO_CODE)
    for section, name in sorted(drivers):
        if "=" in name or "\n" in name:
            # `-c` splits at the first "=": such a driver cannot be switched off by name.
            raise WorkspaceError(
                f"the repository's configuration defines a {section} driver {name!r} whose "
                "name cannot be switched off; rename it to run tasks on this repository"
            )
        options += [f"{section}.{name}.{key}" for key in _DRIVER_KEYS[section]]
    return tuple(options)


def check_git_pointer(top: Path) -> Path:
    """The worktree's entry in its repository (`<git dir>/worktrees/<name>`), read from its
    `.git` file, which must name that entry, and the entry must name it back.

    The file lies inside the workspace, so the agent could rewrite it to aim our git
    commands at a repository it made, whose configuration runs commands (a clean filter
    during `git add`). The entry lives outside the workspace, where nothing confined can
    write.
    """
    dotgit = top / ".git"
    problem = f"the workspace's .git pointer {dotgit} was changed; refusing to run git there"
    if dotgit.is_symlink() or not dotgit.is_file():
        raise WorkspaceError(problem)
    text = dotgit.read_text(errors="replace").strip()
    if not text.startswith("gitdir: "):
        raise WorkspaceError(problem)
    entry = (top / text.removeprefix("gitdir: ").strip()).resolve()
    if entry.is_relative_to(top.resolve()) or entry.parent.name != "worktrees":
        raise WorkspaceError(problem)
    try:
        back = Path((entry / "gitdir").read_text().strip())
    except OSError:
        raise WorkspaceError(problem) from None
    if back.resolve() != dotgit.resolve():
        raise WorkspaceError(problem)
    return entry


@dataclass(frozen=True)
class WorktreeGit:
    """Git for one task worktree: `WorktreeGit.open(top).run([...])`."""

    top: Path  # the worktree
    entry: Path  # its git directory, <common>/worktrees/<name>
    common: Path  # the repository's git directory
    options: tuple[str, ...]  # code_off's settings

    @classmethod
    def open(cls, top: Path) -> WorktreeGit:
        entry = check_git_pointer(top)
        common = entry.parent.parent
        front = _front(entry, top)
        options = code_off(cwd=top, env=git_env(UNTRUSTED_TREE), front=front)
        return cls(top=top, entry=entry, common=common, options=options)

    def run(
        self,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        ok: tuple[int, ...] = (0,),
        scratch: Path | None = None,
        confined: bool = True,
    ) -> GitResult:
        """`git args` on the worktree, confined; `scratch` is a directory of ours it may
        write (a temporary index). `confined=False` only for commands that read no file of
        the worktree, only the index and stored objects (its branch, a commit id, `diff
        --cached`): they run with the same settings, without the cost of a sandbox."""
        argv = command(args, self.options, front=_front(self.entry, self.top))
        env = {**FIXED_ENV, **UNTRUSTED_TREE, **(env or {})}
        if not confined:
            return execute(argv, what=args[0], cwd=self.top, env=git_env(env), ok=ok)
        written = (self.common / "objects", self.common / "refs", self.common / "logs", scratch)
        writable = [p for p in written if p is not None and p.is_dir()]
        with tempfile.TemporaryDirectory(prefix="claudeserver-git-") as home:
            jail = Confinement(
                # The worktree's entry is the one place of its own git writes (its index,
                # HEAD); the worktree itself stays read-only: git only reads it.
                workspace=self.entry,
                home=Path(home),
                readable=(self.common, self.top),
                sandboxed=sandbox.probe().available,
            )
            return execute(
                jail.command(argv, writable), what=args[0], cwd=self.top,
                env=jail.environment(env), ok=ok,
            )  # fmt: skip

    def current_branch(self) -> str | None:
        out = self.run(["symbolic-ref", "--quiet", "--short", "HEAD"], ok=(0, 1), confined=False)
        return (out.stdout.strip() or None) if out.code == 0 else None


def _front(entry: Path, top: Path) -> tuple[str, ...]:
    return (f"--git-dir={entry}", f"--work-tree={top}")
