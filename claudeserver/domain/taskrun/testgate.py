"""The test gate: the baseline before the agent starts, then after each of its answers a
round of its tests and the project's, judged by change against that baseline; the
results and each round on the task."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claudeserver.domain.human import SimulatedHuman
from claudeserver.domain.judging import (
    FAILING,
    PRE_EXISTING,
    already_failing,
    blocks,
    completed_summary,
    judge,
    names,
    tests_phrase,
    verdict,
)
from claudeserver.domain.taskrun.journal import Journal, Unit
from claudeserver.domain.testrun import TestResult, TestRunner
from claudeserver.domain.validation import Baseline, Round, run_round, take_baseline
from claudeserver.vocabulary import Kind, Role, TaskStatus

RESULT_SUMMARY_CHARS = 2000  # of the agent's last answer, in the task's summary


async def baseline(tests: TestRunner, project: Path, journal: Journal) -> Baseline:
    """The project's own tests before the agent touches it."""
    journal.progress("Running the project's regression tests (baseline)")
    taken, results, seconds = await take_baseline(tests, project)
    failing = sum(r.status in FAILING for r in results)
    with journal.unit() as w:
        save_results(w, "regression", results, taken)
        # After a follow-up, the tests generated before are the project's own now.
        w.tests("generated", [])
        w.update(baseline=taken.to_json(), baseline_duration=seconds)
        w.record(
            Role.TEST, Kind.BASELINE,
            f"Baseline: {tests_phrase(len(results))}, {failing} failing ({seconds:.1f} s)",
            {"duration": seconds, "tests": len(results), "failing": failing},
        )  # fmt: skip
    return taken


@dataclass(frozen=True)
class TestGate:
    __test__ = False  # not a pytest class

    tests: TestRunner
    project: Path
    baseline: Baseline
    baseline_failures: str  # the session's rule for tests that failed before the task
    journal: Journal

    async def validate(self) -> tuple[bool, str]:
        """Run the tests: (True, the summary) when nothing the agent must fix fails, else
        (False, what to tell the agent)."""
        number = self.journal.round_started()
        outcome = await run_round(
            self.tests, self.project, self.baseline,
            on_full_run=lambda: self.journal.progress("Running the generated and regression tests"),
        )  # fmt: skip
        judgement = judge(
            baseline=self.baseline.outcomes, generated=outcome.generated,
            regression=outcome.regression, flaky=outcome.flaky,
            baseline_failures=self.baseline_failures,
        )  # fmt: skip
        with self.journal.unit() as w:
            if outcome.full:  # else the regression results of the last full round stand
                save_results(w, "regression", outcome.regression, self.baseline, outcome.flaky)
            save_results(w, "generated", outcome.generated, self.baseline)
            _record_round(w, number, outcome, len(judgement.blocking))
        # Failures first: a test file that does not even load also yields too few tests,
        # and the agent needs to see why rather than be asked to write more.
        if judgement.blocking:
            failures = judgement.blocking
            self.journal.move(
                TaskStatus.RUNNING, progress=f"{len(failures)} test(s) failing; fixing"
            )
            return False, SimulatedHuman.failure_feedback(failures, self.baseline.outcomes)
        if not outcome.count_ok:
            self.journal.move(TaskStatus.RUNNING, progress="Asking the agent to adjust its tests")
            return False, SimulatedHuman.test_count_fix(len(outcome.generated))
        summary = completed_summary(
            generated=len(outcome.generated), regression=len(outcome.regression),
            judgement=judgement,
        )  # fmt: skip
        last = self.journal.last_result_text()
        return True, f"{summary}\n\n{last[:RESULT_SUMMARY_CHARS]}".strip()

    def failing(self) -> tuple[list[str], list[str]]:
        """(what the agent must still fix, what was failing before the task), by name."""
        failing, old = [], []
        for case in self.journal.test_cases():
            what = verdict(
                baseline_status=case.baseline_status, status=case.status, flaky=case.flaky
            )
            if blocks(verdict_=what, status=case.status, baseline_failures=self.baseline_failures):
                failing.append(case.name)
            elif what == PRE_EXISTING:
                old.append(case.name)
        return failing, old

    def failing_suffix(self) -> str:
        """What still fails when a task gives up: the agent's failures (a bounded list),
        then those that were failing before the task."""
        failing, old = self.failing()
        suffix = f"; failing tests: {names(failing)}" if failing else ""
        return suffix + (f"; {already_failing(old)}" if old else "")


def save_results(
    w: Unit,
    test_type: str,
    results: list[TestResult],
    baseline: Baseline,
    flaky: frozenset[str] = frozenset(),
) -> None:
    before = baseline.outcomes if test_type == "regression" else {}
    w.tests(test_type, results, baseline_status=before, flaky=flaky)
    unchanged = 0
    for result in results:
        what = verdict(
            baseline_status=before.get(result.name), status=result.status,
            flaky=result.name in flaky,
        )  # fmt: skip
        if test_type == "regression" and what == "ok" and result.status == "passed":
            # A suite of 60,000 tests would otherwise be 60,000 events per round, and
            # the one that matters lost among them: the passing ones are counted.
            unchanged += 1
            continue
        data = {
            "type": test_type, "status": result.status, "duration": result.duration,
            "verdict": what,
        }  # fmt: skip
        w.record(Role.TEST, Kind.TEST_RESULT, f"{result.status}: {result.name}", data)
    if unchanged:
        data = {"type": test_type, "status": "passed", "verdict": "ok", "count": unchanged}
        w.record(Role.TEST, Kind.TEST_RESULT, f"passed: {unchanged} regression tests", data)


def _record_round(w: Unit, number: int, outcome: Round, failing: int) -> None:
    """The round's duration, on the task and in its history."""
    seconds = round(outcome.duration, 3)
    w.round_took(seconds)
    ran = "generated and regression" if outcome.full else "generated"
    w.record(
        Role.TEST, Kind.ROUND,
        f"Round {number} ({ran} tests): {failing} failing ({seconds:.1f} s)",
        {"round": number, "duration": seconds, "full": outcome.full,
         "generated": len(outcome.generated), "regression": len(outcome.regression),
         "failing": failing, "flaky": len(outcome.flaky)},
    )  # fmt: skip
