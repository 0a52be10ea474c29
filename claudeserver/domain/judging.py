"""Judging a round by change: a test counts against the agent only if the agent broke it.

Pure functions over the baseline's outcomes and a round's results, shared by the task
runner (what to tell the agent, whether the task is done) and by everything that shows a
test's verdict (API, dashboard, CLI, webhook counts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from claudeserver.domain.testrun import TestResult

PASSED = "passed"
FAILING = frozenset({"failed", "error"})
# Baseline outcomes a test can have (a runner's statuses).
OUTCOMES = ("passed", "failed", "error", "skipped", "xfail")

# What a test's result means for the task.
REGRESSION = "regression"  # passed before the task, does not pass now
PRE_EXISTING = "pre_existing"  # already failing before the task, still not passing
FIXED = "fixed"  # failing before the task, passing now
FLAKY = "flaky"  # failed in a round, then passed when re-run on its own
NEW = "new"  # not in the baseline: the agent's tests, or tests the task added
OK = "ok"
VERDICTS = (REGRESSION, PRE_EXISTING, FIXED, FLAKY, NEW, OK)

# Baseline settings of a session: pre-existing failures are shown, or must pass too.
IGNORE, BLOCK = "ignore", "block"

# Names listed in a summary before "and N more".
MAX_NAMES = 20


def verdict(*, baseline_status: str | None, status: str, flaky: bool) -> str:
    if baseline_status is None:
        return NEW
    if baseline_status == PASSED:
        if status != PASSED:
            return REGRESSION
        return FLAKY if flaky else OK
    if baseline_status in FAILING:
        return FIXED if status == PASSED else PRE_EXISTING
    # Skipped or an expected failure before: only a real failure now is the change's doing.
    return REGRESSION if status in FAILING else OK


def blocks(*, verdict_: str, status: str, baseline_failures: str) -> bool:
    """Whether a test with this verdict keeps the task from completing."""
    if verdict_ == REGRESSION:
        return True
    if verdict_ == NEW:
        return status in FAILING
    return verdict_ == PRE_EXISTING and baseline_failures == BLOCK


@dataclass(frozen=True)
class Judgement:
    """A round's results sorted by what they mean for the task."""

    blocking: list[TestResult]  # what the agent must fix, in the order it is told
    pre_existing: list[TestResult]  # failing before the task, still not passing
    fixed: list[TestResult]
    flaky: list[TestResult]


def judge(
    *,
    baseline: dict[str, str],
    generated: Sequence[TestResult],
    regression: Sequence[TestResult],
    flaky: frozenset[str],
    baseline_failures: str = IGNORE,
) -> Judgement:
    """`baseline` maps each baseline test id to its outcome then; generated tests are new."""
    blocking: list[TestResult] = []
    by_verdict: dict[str, list[TestResult]] = {PRE_EXISTING: [], FIXED: [], FLAKY: []}
    judged: list[tuple[TestResult, str | None]] = [(r, None) for r in generated]
    judged += [(r, baseline.get(r.name)) for r in regression]
    for result, before in judged:
        what = verdict(baseline_status=before, status=result.status, flaky=result.name in flaky)
        if blocks(verdict_=what, status=result.status, baseline_failures=baseline_failures):
            blocking.append(result)
        by_verdict.get(what, []).append(result)
    return Judgement(blocking, by_verdict[PRE_EXISTING], by_verdict[FIXED], by_verdict[FLAKY])


def names(tests: Sequence[str], limit: int = MAX_NAMES) -> str:
    """`a, b, c and 12 more`: a summary names a bounded number of tests."""
    shown = ", ".join(tests[:limit])
    rest = len(tests) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def tests_phrase(count: int) -> str:
    return f"{count} test{'' if count == 1 else 's'}"


def already_failing(tests: Sequence[str]) -> str:
    were = "was" if len(tests) == 1 else "were"
    return f"{tests_phrase(len(tests))} {were} already failing before the task: {names(tests)}"


def completed_summary(*, generated: int, regression: int, judgement: Judgement) -> str:
    """`Completed: …` with what the user should know: failures the task did not cause,
    failures it fixed along the way, tests that only passed on a second try."""
    total = generated + regression
    counts = f"({generated} generated, {regression} regression)"
    old = [r.name for r in judgement.pre_existing]
    if old:
        parts = [f"{total - len(old)} of {total} tests passed {counts}", already_failing(old)]
    else:
        parts = [f"all {total} tests passed {counts}"]
    if judgement.fixed:
        fixed = [r.name for r in judgement.fixed]
        now = "now passes" if len(fixed) == 1 else "now pass"
        parts.append(f"{tests_phrase(len(fixed))} failing before the task {now}: {names(fixed)}")
    if judgement.flaky:
        flaky = [r.name for r in judgement.flaky]
        parts.append(
            f"{tests_phrase(len(flaky))} failed, then passed when re-run (flaky): {names(flaky)}"
        )
    return f"Completed: {'; '.join(parts)}."


def test_summary(outcomes: Iterable[tuple[str, str | None, bool, int]]) -> dict[str, int]:
    """The seed's total/passed/failed/pending, and how the tests compare with the baseline,
    from (status, baseline status, flaky, count) groups of a task's test cases."""
    counts: Counter[str] = Counter()
    for status, before, flaky, n in outcomes:
        counts[status] += n
        counts[verdict(baseline_status=before, status=status, flaky=flaky)] += n
    passed = counts[PASSED] + counts["skipped"] + counts["xfail"]
    pending = counts["pending"]
    failed = counts["failed"] + counts["error"]
    return {
        "total": passed + pending + failed,
        "passed": passed,
        "failed": failed,
        "pending": pending,
        PRE_EXISTING: counts[PRE_EXISTING],
        FIXED: counts[FIXED],
        FLAKY: counts[FLAKY],
    }
