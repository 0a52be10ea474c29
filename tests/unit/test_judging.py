"""Judging by change (issue 15): a round's results against the baseline's, per test.

`ScriptedRunner` is a test double of our own TestRunner protocol: it reports the outcomes
it is given for the targets it is asked to run, and records what it was asked.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from claudeserver.domain.human import SimulatedHuman
from claudeserver.domain.judging import (
    BLOCK,
    Judgement,
    completed_summary,
    judge,
    names,
    verdict,
)
from claudeserver.domain.testrun import TestResult
from claudeserver.domain.validation import (
    SLOW_SUITE_SECONDS,
    Baseline,
    Round,
    run_round,
    take_baseline,
)

OLD = "tests/test_old.py"
NEW = "tests/test_new.py"


class ScriptedRunner:
    name = "scripted"
    test_file_patterns: tuple[str, ...] = ("test_*.py",)
    framework_hint = "tests"

    def __init__(self, outcomes: dict[str, str], *, runs_everything: bool = False) -> None:
        self.outcomes = outcomes  # test id -> status it reports
        self.on_rerun: dict[str, str] = {}  # test id -> status when re-run
        self.runs_everything = runs_everything  # like jest, go or cargo: targets ignored
        self.runs: list[list[str]] = []
        self.reruns: list[list[str]] = []

    def regression_targets(self) -> list[str]:
        return ["tests"]

    async def run(self, targets: list[str]) -> list[TestResult]:
        self.runs.append(targets)
        return [
            _result(name, status)
            for name, status in self.outcomes.items()
            if self.runs_everything or any(name.startswith(t) for t in targets)
        ]

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        self.reruns.append([r.name for r in results])
        return [_result(r.name, self.on_rerun.get(r.name, r.status)) for r in results]


def _result(name: str, status: str) -> TestResult:
    output = None if status == "passed" else f"E   assert {name}\n{'trace ' * 20}\nend of {name}"
    return TestResult(name, name.split("::")[0], status, output, 0.01)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / OLD).write_text("# the project's tests\n")
    return tmp_path


def baseline_of(runner: ScriptedRunner, project: Path, *, slow: bool = False) -> Baseline:
    """The project's baseline; `slow` as if its suite took SLOW_SUITE_SECONDS."""
    baseline = asyncio.run(take_baseline(runner, project))[0]
    return dataclasses.replace(baseline, seconds=SLOW_SUITE_SECONDS) if slow else baseline


def agent_writes_tests(project: Path, runner: ScriptedRunner, statuses: list[str]) -> None:
    (project / NEW).write_text("# the agent's tests\n")
    runner.outcomes |= {f"{NEW}::test_{n}": s for n, s in enumerate(statuses)}


def play(runner: ScriptedRunner, project: Path, baseline: Baseline, **options: str) -> Judgement:
    outcome = asyncio.run(run_round(runner, project, baseline))
    return judge_round(outcome, baseline, **options)


def judge_round(outcome: Round, baseline: Baseline, **options: str) -> Judgement:
    return judge(
        baseline=baseline.outcomes, generated=outcome.generated, regression=outcome.regression,
        flaky=outcome.flaky, **options,
    )  # fmt: skip


def blocking(judgement: Judgement) -> list[str]:
    return [r.name for r in judgement.blocking]


@pytest.mark.parametrize(
    ("before", "now", "flaky", "expected"),
    [
        ("passed", "passed", False, "ok"),
        ("passed", "failed", False, "regression"),
        ("passed", "error", False, "regression"),
        ("passed", "skipped", False, "regression"),
        ("passed", "xfail", False, "regression"),
        ("passed", "passed", True, "flaky"),
        ("failed", "failed", False, "pre_existing"),
        ("error", "skipped", False, "pre_existing"),
        ("failed", "passed", False, "fixed"),
        ("skipped", "skipped", False, "ok"),
        ("skipped", "failed", False, "regression"),
        (None, "failed", False, "new"),
    ],
)
def test_a_verdict_compares_a_test_with_its_baseline_outcome(
    before: str | None, now: str, flaky: bool, expected: str
) -> None:
    assert verdict(baseline_status=before, status=now, flaky=flaky) == expected


def test_a_test_failing_before_the_task_neither_blocks_nor_reaches_the_agent(
    project: Path,
) -> None:
    runner = ScriptedRunner({f"{OLD}::test_ok": "passed", f"{OLD}::test_broken": "failed"})
    baseline = baseline_of(runner, project)
    assert baseline.outcomes == {f"{OLD}::test_ok": "passed", f"{OLD}::test_broken": "failed"}
    agent_writes_tests(project, runner, ["passed", "passed"])

    judgement = play(runner, project, baseline)
    assert blocking(judgement) == []
    assert [r.name for r in judgement.pre_existing] == [f"{OLD}::test_broken"]
    assert runner.reruns == []  # not a regression, so no second chance is needed
    summary = completed_summary(generated=2, regression=2, judgement=judgement)
    assert summary == (
        "Completed: 3 of 4 tests passed (2 generated, 2 regression); 1 test was already "
        f"failing before the task: {OLD}::test_broken."
    )


def test_block_mode_requires_pre_existing_failures_to_pass_and_says_why(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_broken": "failed"})
    baseline = baseline_of(runner, project)
    agent_writes_tests(project, runner, ["passed", "passed"])

    judgement = play(runner, project, baseline, baseline_failures=BLOCK)
    assert blocking(judgement) == [f"{OLD}::test_broken"]
    feedback = SimulatedHuman.failure_feedback(judgement.blocking, baseline.outcomes)
    assert "failed before the task too, but this session requires it to pass" in feedback


def test_a_pre_existing_failure_that_passes_now_is_reported_fixed(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_broken": "failed"})
    baseline = baseline_of(runner, project)
    agent_writes_tests(project, runner, ["passed", "passed"])
    runner.outcomes[f"{OLD}::test_broken"] = "passed"

    judgement = play(runner, project, baseline)
    assert [r.name for r in judgement.fixed] == [f"{OLD}::test_broken"]
    summary = completed_summary(generated=2, regression=1, judgement=judgement)
    assert f"1 test failing before the task now passes: {OLD}::test_broken" in summary


def test_a_regression_is_rerun_once_and_blocks_when_it_fails_again(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_a": "passed", f"{OLD}::test_b": "passed"})
    baseline = baseline_of(runner, project)
    agent_writes_tests(project, runner, ["passed", "passed"])
    runner.outcomes[f"{OLD}::test_a"] = "failed"

    judgement = play(runner, project, baseline)
    assert runner.reruns == [[f"{OLD}::test_a"]]
    assert blocking(judgement) == [f"{OLD}::test_a"]
    feedback = SimulatedHuman.failure_feedback(judgement.blocking, baseline.outcomes)
    assert f"### {OLD}::test_a (failed; it passed before your change)" in feedback


def test_a_regression_that_passes_when_rerun_is_flaky_not_the_agents_fault(
    project: Path,
) -> None:
    runner = ScriptedRunner({f"{OLD}::test_timing": "passed"})
    baseline = baseline_of(runner, project)
    agent_writes_tests(project, runner, ["passed", "passed"])
    runner.outcomes[f"{OLD}::test_timing"] = "failed"
    runner.on_rerun[f"{OLD}::test_timing"] = "passed"

    outcome = asyncio.run(run_round(runner, project, baseline))
    judgement = judge_round(outcome, baseline)
    assert outcome.flaky == {f"{OLD}::test_timing"}
    assert blocking(judgement) == [] and [r.name for r in judgement.flaky] == [
        f"{OLD}::test_timing"
    ]
    (stored,) = outcome.regression
    assert stored.status == "passed" and stored.output is not None
    assert stored.output.startswith("failed at first, passed when re-run on its own")
    summary = completed_summary(generated=2, regression=1, judgement=judgement)
    assert f"1 test failed, then passed when re-run (flaky): {OLD}::test_timing" in summary


def test_the_agents_tests_run_first_and_a_slow_suite_only_once_they_pass(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_ok": "passed"})
    baseline = baseline_of(runner, project, slow=True)
    agent_writes_tests(project, runner, ["failed", "passed"])

    outcome = asyncio.run(run_round(runner, project, baseline))
    assert runner.runs[1:] == [[NEW]] and not outcome.full
    assert blocking(judge_round(outcome, baseline)) == [f"{NEW}::test_0"]

    runner.outcomes[f"{NEW}::test_0"] = "passed"
    outcome = asyncio.run(run_round(runner, project, baseline))
    # The generated file is in the suite's directory: named once all the same.
    assert runner.runs[2:] == [[NEW], ["tests", NEW]] and outcome.full
    assert [r.name for r in outcome.regression] == [f"{OLD}::test_ok"]
    assert len(outcome.generated) == 2


def test_too_few_tests_are_asked_for_before_a_slow_suite_runs(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_ok": "passed"})
    baseline = baseline_of(runner, project, slow=True)
    agent_writes_tests(project, runner, ["passed"])

    outcome = asyncio.run(run_round(runner, project, baseline))
    assert not outcome.full and not outcome.count_ok and runner.runs[1:] == [[NEW]]


def test_a_fast_suite_runs_with_the_agents_tests_in_one_go(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_ok": "passed"})
    baseline = baseline_of(runner, project)
    assert baseline.seconds is not None and not baseline.slow
    agent_writes_tests(project, runner, ["failed", "passed"])

    outcome = asyncio.run(run_round(runner, project, baseline))
    assert runner.runs[1:] == [["tests", NEW]] and outcome.full
    assert blocking(judge_round(outcome, baseline)) == [f"{NEW}::test_0"]
    # Older tasks' baselines did not time the suite: their rounds stay split.
    assert Baseline.from_json(baseline.to_json()).slow


def test_a_runner_that_runs_everything_anyway_runs_once_per_round(project: Path) -> None:
    runner = ScriptedRunner({f"{OLD}::test_ok": "passed"}, runs_everything=True)
    baseline = baseline_of(runner, project, slow=True)
    agent_writes_tests(project, runner, ["passed", "passed"])

    outcome = asyncio.run(run_round(runner, project, baseline))
    assert runner.runs[1:] == [[NEW]] and outcome.full
    assert [r.name for r in outcome.regression] == [f"{OLD}::test_ok"]


def test_a_baseline_test_not_run_is_a_regression_and_gone_only_with_its_file(
    project: Path,
) -> None:
    (project / "tests" / "test_other.py").write_text("# more tests\n")
    other = "tests/test_other.py::test_c"
    runner = ScriptedRunner({f"{OLD}::test_a": "passed", other: "passed"})
    baseline = baseline_of(runner, project)
    agent_writes_tests(project, runner, ["passed", "passed"])
    # A conftest deselects test_a; the agent deletes test_other.py.
    del runner.outcomes[f"{OLD}::test_a"], runner.outcomes[other]
    (project / "tests" / "test_other.py").unlink()

    judgement = play(runner, project, baseline)
    outputs = {r.name: r.output for r in judgement.blocking}
    assert outputs == {
        f"{OLD}::test_a": "Regression test was not run this round (it ran before the task)",
        other: "Regression test no longer exists: tests/test_other.py was deleted or changed "
        "during the task",
    }


def test_baselines_stored_before_outcomes_were_kept_still_read() -> None:
    old: dict[str, object] = {"test_files": {OLD: "abc"}, "regression": [f"{OLD}::test_a"]}
    baseline = Baseline.from_json(old)
    assert baseline.outcomes == {f"{OLD}::test_a": "passed"}
    assert baseline.tests[f"{OLD}::test_a"].file_path == OLD
    assert Baseline.from_json(baseline.to_json()) == baseline


def test_failure_feedback_stays_compact_however_much_fails() -> None:
    trace = "frame line\n" * 2000
    failures = [
        _big_failure(f"tests/test_big.py::test_{n}", f"assert compute({n}) == 3\n{trace}E   {n}")
        for n in range(300)
    ]
    text = SimulatedHuman.failure_feedback(failures)
    assert len(text) <= 16_500
    assert "assert compute(0) == 3" in text and "E   0" in text
    shown = text.count("### ")
    assert 0 < shown <= 20
    assert f"({300 - shown} more failing tests left out.)" in text
    assert text.startswith("Some tests failed (300)")


def test_summaries_name_a_bounded_number_of_tests() -> None:
    many = [f"tests/test_x.py::test_{n}" for n in range(155)]
    text = names(many)
    assert text.endswith("tests/test_x.py::test_19 and 135 more")
    assert "test_20," not in text


def _big_failure(name: str, output: str) -> TestResult:
    return TestResult(name, name.split("::")[0], "failed", output, 0.1)
