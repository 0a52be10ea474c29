"""What every test runner offers, and the one way they all run a child process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from claudeserver.domain import domain_proxy
from claudeserver.domain.confinement import MAX_PROCESSES, Confinement
from claudeserver.domain.process_limit import enter_command, pids_group
from claudeserver.domain.service_bridge import host_side, inside_command

# TestResult.status values. `xfail` is an expected failure (pytest's xfail); an expected
# failure that passes is `passed`, or `failed` when the test demanded it fail (strict).
TEST_STATUSES = ("passed", "failed", "error", "skipped", "xfail")


class TestRunError(Exception):
    __test__ = False


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class

    # The id the runner itself prints, unique per run: a pytest node id such as
    # tests/test_x.py::TestA::test_b[1] (relative to the project; an inherited test under
    # the subclass that runs it). A file that cannot be loaded is one `error` result named
    # by its path, with the loader's traceback as output.
    name: str
    file_path: str | None  # relative to the project; None for a result of the whole run
    status: str  # one of TEST_STATUSES
    output: str | None  # bounded failure text: the assertion and the end of the traceback
    duration: float | None


@dataclass(frozen=True)
class RunContext:
    """Where and how a runner runs: the project, a time limit, extra environment."""

    project: Path
    timeout: float
    env: dict[str, str]
    # Where the project's own virtualenv (or node_modules …) lives when `project` is a
    # worktree: ignored directories are not checked out there. This is the user's checkout.
    venv_root: Path | None = None
    # How the project's code runs (see domain/confinement.py); None: unsandboxed, with a
    # scrubbed environment and a throwaway home.
    confinement: Confinement | None = None


class TestRunner(Protocol):
    """One implementation per ecosystem (pytest, node, go, cargo, a custom command)."""

    name: str
    # File name patterns of test files, used to find the tests the agent wrote.
    test_file_patterns: tuple[str, ...]
    # How the simulated human asks for tests in this ecosystem.
    framework_hint: str

    def regression_targets(self) -> list[str]:
        """What the baseline runs: the project's own test suite, as it configures it.

        Never empty: explicit paths relative to the project, where `["."]` means whatever
        the runner collects from the project root by itself (pytest: no `testpaths`).
        """
        ...

    async def run(self, targets: list[str]) -> list[TestResult]:
        """Run `targets` (regression targets plus generated test files) and report each test.

        Targets are explicit: `[]` runs nothing. A target inside another one (a generated
        file under a regression directory) is not passed twice. `TestResult.file_path` must
        be relative to the project, so generated tests can be told from regression tests.
        """
        ...

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """Run exactly these tests of an earlier run again (is a failure flaky?)."""
        ...


async def rerun_files(runner: TestRunner, results: list[TestResult]) -> list[TestResult]:
    """For runners that cannot pick single tests: run their files (or, without files, the
    suite) again and report just those tests."""
    wanted = {r.name for r in results}
    files = sorted({r.file_path for r in results if r.file_path})
    return [r for r in await runner.run(files or runner.regression_targets()) if r.name in wanted]


async def execute(
    args: list[str], ctx: RunContext, *, writable: Iterable[Path] = ()
) -> tuple[int, str]:
    """Run a child confined, in its own process group; on timeout or cancel kill the group.

    `writable`: host directories outside the project the child writes to (its report).
    """
    with _confinement(ctx) as jail, pids_group(MAX_PROCESSES) as group:
        async with _bridged(jail, args, writable) as (argv, paths):
            command = jail.command(argv, paths)
            process = await asyncio.create_subprocess_exec(
                *(enter_command(group) + command if group else command),
                cwd=ctx.project,
                env=jail.environment(ctx.env),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            return await _finish(process, ctx)


@contextlib.asynccontextmanager
async def _bridged(
    jail: Confinement, args: list[str], writable: Iterable[Path]
) -> AsyncIterator[tuple[list[str], list[Path]]]:
    """The command and its writable paths, with the session's host services and the
    filtering proxy of a "fetch_domains" run bridged into its network namespace (see
    domain/service_bridge.py and domain/domain_proxy.py)."""
    services, proxy = jail.bridged_services, jail.proxy
    if not services and proxy is None:
        yield args, list(writable)
        return
    with tempfile.TemporaryDirectory(prefix="claudeserver-bridge-") as tmp:
        bridge = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(host_side(services, bridge))
            if proxy is not None:
                socket = bridge / proxy.socket_name
                await stack.enter_async_context(domain_proxy.serving(socket, jail.fetch_domains))
                services = (*services, proxy)
            yield [*inside_command(services, bridge), *args], [*writable, bridge]


@contextlib.contextmanager
def _confinement(ctx: RunContext) -> Iterator[Confinement]:
    if ctx.confinement is not None:
        yield ctx.confinement
        return
    with tempfile.TemporaryDirectory(prefix="claudeserver-home-") as home:
        yield Confinement(ctx.project, Path(home), sandboxed=False)


async def _finish(process: asyncio.subprocess.Process, ctx: RunContext) -> tuple[int, str]:
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), ctx.timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise TestRunError(f"the test run exceeded TEST_TIMEOUT_SECONDS={ctx.timeout:g}") from exc
    return process.returncode or 0, stdout.decode(errors="replace")
