"""The floor: the same conversation driven directly with claude-agent-sdk, no server.

It mirrors what `TaskRun` does for one task — baseline pytest run, the implement turn,
the tests turn, one pytest round — with the same prompts (from `SimulatedHuman`) and the
same pytest invocation, and nothing else: no database, no gate, no workspace snapshot.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage

from benchmarks import scenario
from claudeserver.domain.human import SimulatedHuman
from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.pytest_runner import PytestRunner

# The tools the script uses run without asking, as the server's gate would allow them.
ALLOWED_TOOLS = ["Write", "Edit", "Read", "Bash"]


def _runner(project: Path) -> PytestRunner:
    """The server's pytest runner (its plugin and report), unconfined: bubblewrap is part of
    what the server adds."""
    return PytestRunner(RunContext(project, 600, {}))


async def _turn(client: ClaudeSDKClient, prompt: str) -> ResultMessage:
    await client.query(prompt)
    result: ResultMessage | None = None
    async for message in client.receive_response():
        if isinstance(message, ResultMessage):
            result = message
    if result is None or result.is_error:
        raise RuntimeError(f"floor: the turn failed: {result}")
    return result


async def run_task(project: Path, env: dict[str, str], description: str) -> float:
    """Seconds one task takes without the server."""
    started = time.perf_counter()
    runner = _runner(project)
    await runner.run(runner.regression_targets())  # baseline
    options = ClaudeAgentOptions(
        cwd=str(project),
        env=env,
        setting_sources=[],
        system_prompt={"type": "preset", "preset": "claude_code"},
        allowed_tools=ALLOWED_TOOLS,
    )
    async with ClaudeSDKClient(options) as client:
        await _turn(client, SimulatedHuman.first_prompt(description))
        await _turn(client, SimulatedHuman.tests_request(runner.framework_hint))
        generated = sorted(
            str(p.relative_to(project)) for p in (project / "tests").glob("test_*.py")
        )
        await runner.run(sorted({*runner.regression_targets(), *generated}))
    if not (project / scenario.TESTS_FILE).is_file():
        raise RuntimeError(f"floor: the agent wrote no tests in {project}")
    return time.perf_counter() - started


async def run_many(projects: list[Path], env: dict[str, str], concurrency: int) -> list[float]:
    """Run one task per project, `concurrency` at a time (the server's slots)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(project: Path) -> float:
        async with gate:
            return await run_task(project, env, scenario.DESCRIPTION)

    return list(await asyncio.gather(*(one(p) for p in projects)))
