"""One validation round: the agent's tests first, then the regression suite; flaky re-runs."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from claudeserver.domain.human import MAX_TESTS, MIN_TESTS
from claudeserver.domain.judging import FAILING, PASSED
from claudeserver.domain.testrun import TestFileSnapshot, TestResult, TestRunner

# More regressions than this at once are a real break, not flakiness: re-running them
# would only double the round.
MAX_RERUNS = 50
# A suite faster than this runs with the agent's tests in one go: a run of their own first
# would cost another start of the runner (a second or two with pytest's plugins) to save
# less than that when they fail.
SLOW_SUITE_SECONDS = 5.0


@dataclass(frozen=True)
class BaselineTest:
    status: str  # passed | failed | error | skipped | xfail
    file_path: str | None


@dataclass(frozen=True)
class Baseline:
    """The project before the agent touched it."""

    test_files: dict[str, str]  # relative path -> digest
    tests: dict[str, BaselineTest]  # regression test id -> its outcome then
    # How long the suite took: the task's baseline_duration (unknown for older tasks).
    seconds: float | None = None

    @property
    def outcomes(self) -> dict[str, str]:
        return {name: test.status for name, test in self.tests.items()}

    @property
    def slow(self) -> bool:
        """Whether running the agent's tests on their own first saves time: only when the
        suite takes longer than another start of the runner costs."""
        return self.seconds is None or self.seconds >= SLOW_SUITE_SECONDS

    def to_json(self) -> dict[str, object]:
        tests = {n: {"status": t.status, "file": t.file_path} for n, t in self.tests.items()}
        return {"test_files": self.test_files, "tests": tests}

    @classmethod
    def from_json(cls, data: dict[str, object], seconds: float | None = None) -> Baseline:
        files = data.get("test_files")
        tests = data.get("tests")
        legacy = data.get("regression")  # before outcomes were kept: ids of tests held to pass
        outcomes: dict[str, BaselineTest] = {}
        if isinstance(tests, dict):
            for name, test in tests.items():
                if isinstance(test, dict):
                    outcomes[name] = BaselineTest(str(test.get("status")), test.get("file"))
        elif isinstance(legacy, list):
            outcomes = {str(n): BaselineTest(PASSED, str(n).split("::")[0]) for n in legacy}
        return cls(dict(files) if isinstance(files, dict) else {}, outcomes, seconds)

    def protected(self, root: Path) -> frozenset[Path]:
        return frozenset(root / p for p in self.test_files)


@dataclass
class Round:
    generated: list[TestResult] = field(default_factory=list)
    regression: list[TestResult] = field(default_factory=list)
    # Whether the regression suite ran: it does not while the agent's own tests fail.
    full: bool = False
    # Regression tests that failed, then passed when re-run on their own.
    flaky: frozenset[str] = frozenset()
    duration: float = 0.0

    @property
    def count_ok(self) -> bool:
        return MIN_TESTS <= len(self.generated) <= MAX_TESTS


async def take_baseline(
    runner: TestRunner, project: Path
) -> tuple[Baseline, list[TestResult], float]:
    """The baseline, its results and how long its run took (seconds)."""
    started = time.monotonic()
    snapshot = TestFileSnapshot.take(project, runner.test_file_patterns)
    results = await runner.run(runner.regression_targets())
    tests = {r.name: BaselineTest(r.status, r.file_path) for r in results}
    seconds = time.monotonic() - started
    return Baseline(snapshot.digests, tests, seconds), results, seconds


async def run_round(
    runner: TestRunner,
    project: Path,
    baseline: Baseline,
    *,
    on_full_run: Callable[[], None] = lambda: None,
) -> Round:
    """Generated tests are the test files the agent created or changed, found on disk.

    Where the suite is slow they run first, for quick feedback, and the regression suite
    (with them) only once they pass and are enough; else all run together at once.
    """
    started = time.monotonic()
    before = TestFileSnapshot(baseline.test_files)
    now = TestFileSnapshot.take(project, runner.test_file_patterns)
    generated_files = set(now.changed_since(before))
    everything = sorted({*runner.regression_targets(), *generated_files})
    together = not baseline.slow
    if together:
        on_full_run()
    targets = everything if together else sorted(generated_files)
    outcome = _split(await runner.run(targets) if targets else [], generated_files)
    # A runner that always runs everything (jest, go, cargo, a command) already did.
    if not together and not baseline.tests.keys() <= {r.name for r in outcome.regression}:
        if any(r.status in FAILING for r in outcome.generated) or not outcome.count_ok:
            outcome.duration = time.monotonic() - started
            return outcome
        on_full_run()
        outcome = _split(await runner.run(everything), generated_files)
    outcome.full = True
    outcome.regression, outcome.flaky = await _rerun_failing(runner, baseline, outcome.regression)
    outcome.regression += _missing(baseline, outcome.regression, before, now)
    outcome.duration = time.monotonic() - started
    return outcome


def _split(results: list[TestResult], generated_files: set[str]) -> Round:
    outcome = Round()
    for result in results:
        is_generated = result.file_path in generated_files or result.name in generated_files
        (outcome.generated if is_generated else outcome.regression).append(result)
    return outcome


async def _rerun_failing(
    runner: TestRunner, baseline: Baseline, regression: list[TestResult]
) -> tuple[list[TestResult], frozenset[str]]:
    """Tests that passed at baseline and fail now run once more on their own: those that
    pass then are flaky, not broken by the agent."""
    suspects = [
        r for r in regression if r.status in FAILING and baseline.outcomes.get(r.name) == PASSED
    ]
    if not suspects or len(suspects) > MAX_RERUNS:
        return regression, frozenset()
    again = {r.name: r.status for r in await runner.rerun(suspects)}
    flaky = frozenset(r.name for r in suspects if again.get(r.name) == PASSED)
    return [_as_flaky(r) if r.name in flaky else r for r in regression], flaky


def _as_flaky(result: TestResult) -> TestResult:
    first = f"{result.status} at first, passed when re-run on its own"
    output = f"{first}:\n{result.output}" if result.output else first
    return dataclasses.replace(result, status=PASSED, output=output)


def _missing(
    baseline: Baseline,
    results: list[TestResult],
    before: TestFileSnapshot,
    now: TestFileSnapshot,
) -> list[TestResult]:
    """Baseline tests (that passed or failed then) absent from this round's results.

    Gone only when the agent deleted or changed their file; otherwise they were not run,
    which still counts: a conftest that deselects tests must not pass a broken change.
    """
    seen = {r.name for r in results}
    missing = []
    for name, test in baseline.tests.items():
        if name in seen or not (test.status == PASSED or test.status in FAILING):
            continue
        path = test.file_path
        if (
            path is not None
            and path in before.digests
            and now.digests.get(path) != before.digests[path]
        ):
            why = f"no longer exists: {path} was deleted or changed during the task"
        else:
            why = "was not run this round (it ran before the task)"
        missing.append(TestResult(name, path, "failed", f"Regression test {why}", None))
    return missing
