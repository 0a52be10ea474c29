"""One validation round: find the agent's tests, run them with the regression suite, judge."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from claudeserver.domain.human import MAX_TESTS, MIN_TESTS
from claudeserver.domain.testrun import TestFileSnapshot, TestResult, TestRunner


@dataclass(frozen=True)
class Baseline:
    """The project before the agent touched it."""

    test_files: dict[str, str]  # relative path -> digest
    regression: list[str]  # regression test ids

    def to_json(self) -> dict[str, object]:
        return {"test_files": self.test_files, "regression": self.regression}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Baseline:
        files = data.get("test_files")
        names = data.get("regression")
        return cls(
            dict(files) if isinstance(files, dict) else {},
            list(names) if isinstance(names, list) else [],
        )

    def protected(self, root: Path) -> frozenset[Path]:
        return frozenset(root / p for p in self.test_files)


@dataclass
class Round:
    generated: list[TestResult] = field(default_factory=list)
    regression: list[TestResult] = field(default_factory=list)

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.generated + self.regression if r.status in ("failed", "error")]

    @property
    def count_ok(self) -> bool:
        return MIN_TESTS <= len(self.generated) <= MAX_TESTS


async def take_baseline(runner: TestRunner, project: Path) -> tuple[Baseline, list[TestResult]]:
    snapshot = TestFileSnapshot.take(project, runner.test_file_patterns)
    results = await runner.run(runner.regression_targets())
    return Baseline(snapshot.digests, [r.name for r in results]), results


async def run_round(runner: TestRunner, project: Path, baseline: Baseline) -> Round:
    """Generated tests are the test files the agent created or changed, found on disk."""
    before = TestFileSnapshot(baseline.test_files)
    now = TestFileSnapshot.take(project, runner.test_file_patterns)
    generated_files = set(now.changed_since(before))
    results = await runner.run(sorted({*runner.regression_targets(), *generated_files}))
    outcome = Round()
    for result in results:
        is_generated = result.file_path in generated_files or result.name in generated_files
        (outcome.generated if is_generated else outcome.regression).append(result)
    seen = {r.name for r in outcome.regression}
    outcome.regression += [
        TestResult(name, name.split("::")[0], "failed", "regression test no longer exists", None)
        for name in baseline.regression
        if name not in seen
    ]
    return outcome
