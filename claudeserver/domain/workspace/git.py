"""The one way this package runs git, and the small queries everything else needs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError

# Options every call gets. Hooks and fsmonitor would run commands from the repository's
# configuration during our commits and merges; signing would prompt or fail unattended; the
# rest keep output machine-readable whatever the user's ~/.gitconfig says.
SAFE_OPTIONS = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "commit.gpgsign=false",
    "core.quotepath=false",
    "color.ui=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
)
TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class GitResult:
    code: int
    stdout: str
    stderr: str


# Inherited from a server started inside a git hook or similar, these would silently point
# every call at another repository or inject configuration past SAFE_OPTIONS.
_DROPPED_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
    }
)


# For commands on a task's worktree (see untrusted.py): only the repository's own
# configuration applies, no system or global one, no global attributes.
UNTRUSTED_TREE = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
}


# Every call gets these. `git status` and `git diff` otherwise refresh and rewrite the
# index they read — which would be the user's own index, or the running agent's.
FIXED_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_EDITOR": "true"}


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(FIXED_ENV)
    env.update(extra or {})
    return env


def run(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
    options: Sequence[str] = (),
) -> GitResult:
    """Run `git args` in `cwd`; an exit code outside `ok` raises WorkspaceError with stderr.

    `options` are `-c` settings on top of SAFE_OPTIONS.
    """
    return execute(command(args, options), what=args[0], cwd=cwd, env=git_env(env), ok=ok)


def command(
    args: Sequence[str], options: Sequence[str] = (), *, front: Sequence[str] = ()
) -> list[str]:
    """The argv of `git args` with SAFE_OPTIONS and `options` as `-c` settings; `front` are
    global options such as --git-dir."""
    argv = ["git", "--no-pager", *front]
    for option in (*SAFE_OPTIONS, *options):
        argv += ["-c", option]
    return [*argv, *args]


def execute(
    argv: Sequence[str], *, what: str, cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> GitResult:
    """Run a git command line built by `command` (possibly wrapped, e.g. confined);
    `what` names the git subcommand in errors."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        # Either git itself is missing or `cwd` is.
        raise WorkspaceError(f"cannot run git in {cwd}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise WorkspaceError(f"git {what} in {cwd} timed out") from exc
    result = GitResult(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    if result.code not in ok:
        detail = result.stderr.strip() or result.stdout.strip() or f"exit code {result.code}"
        raise WorkspaceError(f"git {what} failed in {cwd}: {detail}")
    return result


def is_git_repo(path: Path) -> bool:
    """True when `path` is inside a git working tree (the top or any folder below it)."""
    if not path.is_dir():
        return False
    try:
        out = run(["rev-parse", "--is-inside-work-tree"], cwd=path, ok=(0, 128))
    except WorkspaceError:
        return False
    return out.code == 0 and out.stdout.strip() == "true"


def toplevel(path: Path) -> Path:
    return Path(run(["rev-parse", "--show-toplevel"], cwd=path).stdout.strip())


def current_branch(repo: Path) -> str | None:
    """The branch checked out in `repo`, or None when HEAD is detached."""
    out = run(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd=repo, ok=(0, 1))
    if out.code != 0:
        return None
    return out.stdout.strip() or None


def branch_exists(repo: Path, branch: str) -> bool:
    out = run(["show-ref", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=repo, ok=(0, 1))
    return out.code == 0


def branches(repo: Path) -> list[str]:
    out = run(["for-each-ref", "--format=%(refname:short)", "refs/heads"], cwd=repo)
    return [line for line in out.stdout.splitlines() if line]


def commit_of(repo: Path, ref: str) -> str:
    return run(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo).stdout.strip()


def identity_env(name: str, email: str) -> dict[str, str]:
    """Author and committer for commits we make; the machine may have no git identity."""
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
