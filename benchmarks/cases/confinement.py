"""Case 8: confinement — what running a test round under bubblewrap adds to it.

The same pytest round over the scenario's project (its regression test and the agent's
two tests) through `PytestRunner`, alternately confined (as the server runs it) and with
the sandbox off (`SANDBOX=off`: the same environment scrubbing, limits and private home,
no bubblewrap), so both see the same machine load.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.scenario import CONFTEST, IMPLEMENTATION, TESTS, TESTS_FILE, make_project
from benchmarks.stats import ms
from claudeserver.domain.confinement import Confinement
from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.pytest_runner import PytestRunner


async def _round(project: Path, home: Path, *, sandboxed: bool) -> float:
    jail = Confinement(project, home, sandboxed=sandboxed)
    runner = PytestRunner(RunContext(project, 120, {}, confinement=jail))
    started = time.perf_counter()
    results = await runner.run(["tests"])
    elapsed = time.perf_counter() - started
    if len(results) != 3 or any(r.status != "passed" for r in results):
        raise RuntimeError(f"the round did not pass: {results}")
    return elapsed


async def run(ctx: Context) -> CaseResult:
    project = make_project(ctx.dir("confinement", "project"))
    (project / "mathutil.py").write_text(IMPLEMENTATION)
    (project / TESTS_FILE).write_text(TESTS)
    (project / "tests" / "conftest.py").write_text(CONFTEST)
    home = ctx.dir("confinement", "home")
    confined: list[float] = []
    plain: list[float] = []
    for _ in range(ctx.size.confinement_rounds):
        confined.append(await _round(project, home, sandboxed=True))
        plain.append(await _round(project, home, sandboxed=False))
    added = statistics.median(confined) - statistics.median(plain)
    return CaseResult(
        name="confinement",
        title="Confined test round",
        metrics={
            "rounds": len(confined),
            "confined_median_ms": ms(statistics.median(confined)),
            "unconfined_median_ms": ms(statistics.median(plain)),
            "added_ms": ms(added),
        },
        targets=[Target("time bubblewrap adds to a test round (median)", ms(added), 100, "ms")],
    )
