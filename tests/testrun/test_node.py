from __future__ import annotations

import dataclasses
import fcntl
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext, TestResult
from claudeserver.domain.testrun.node_modules import link_node_modules
from claudeserver.domain.testrun.node_packages import (
    NodePackage,
    Script,
    find_packages,
    with_arguments,
)
from claudeserver.domain.testrun.node_runner import NodeRunner
from claudeserver.domain.validation import SLOW_SUITE_SECONDS, run_round, take_baseline
from tests.testrun.checkouts import add_worktree, changes, commit_all

toolchain = pytest.mark.toolchain
VITEST = "3.2.4"
_MATH = ["test/math.test.js::adds small numbers"]

GENERATED = """const { describe, it } = require('node:test');
const assert = require('node:assert');
const { add } = require('../src/math');

describe('add', () => {
  it('adds negative numbers', () => {
    assert.strictEqual(add(-1, -2), -3);
  });
  it('is wrong on purpose', () => {
    assert.strictEqual(add(2, 2), 5);
  });
});
"""


@pytest.fixture
def project(toolchain: Callable[[str], None], sample: Callable[[str], Path]) -> Path:
    toolchain("node")
    return sample("node")


def summary(results: list[TestResult]) -> list[tuple[str, str | None, str]]:
    return sorted((r.name, r.file_path, r.status) for r in results)


@toolchain
async def test_generated_tests_are_told_from_regression_tests(project: Path) -> None:
    runner = NodeRunner(RunContext(project, 60, {}))
    assert runner.tool == "node"
    baseline, results, _ = await take_baseline(runner, project)
    # As a slow suite's: the agent's tests run on their own first.
    baseline = dataclasses.replace(baseline, seconds=SLOW_SUITE_SECONDS)
    assert summary(results) == [
        ("test/math.test.js::adds small numbers", "test/math.test.js", "passed")
    ]

    (project / "test" / "generated.test.js").write_text(GENERATED)
    outcome = await run_round(runner, project, baseline)

    # A generated test fails: the suite waits until the agent's own tests pass.
    assert outcome.regression == [] and not outcome.full
    assert {r.name: (r.file_path, r.status) for r in outcome.generated} == {
        "test/generated.test.js::add::adds negative numbers": ("test/generated.test.js", "passed"),
        "test/generated.test.js::add::is wrong on purpose": ("test/generated.test.js", "failed"),
    }
    [failure] = [r for r in outcome.generated if r.status == "failed"]
    assert "4 !== 5" in (failure.output or "")

    (project / "test" / "generated.test.js").write_text(GENERATED.replace("5);", "4);"))
    outcome = await run_round(runner, project, baseline)
    assert outcome.full
    assert [r.name for r in outcome.regression] == ["test/math.test.js::adds small numbers"]
    assert {r.status for r in outcome.generated} == {"passed"} and len(outcome.generated) == 2


@toolchain
async def test_a_file_alone_a_file_in_the_suite_and_a_rerun(project: Path) -> None:
    (project / "test" / "generated.test.js").write_text(GENERATED)
    runner = NodeRunner(RunContext(project, 60, {}))

    alone = await runner.run(["test/generated.test.js"])
    assert [r.name for r in alone] == [
        "test/generated.test.js::add::adds negative numbers",
        "test/generated.test.js::add::is wrong on purpose",
    ]
    # The suite already holds the file: it is not passed again (it would run twice).
    both = await runner.run([".", "test/generated.test.js"])
    assert sorted(r.name for r in both) == sorted([*(r.name for r in alone), *_MATH])

    [wrong] = [r for r in alone if r.status == "failed"]
    again = await runner.rerun([wrong])
    assert summary(again) == [(wrong.name, wrong.file_path, "failed")]


@toolchain
async def test_a_file_that_does_not_load_is_an_error(project: Path) -> None:
    (project / "broken.test.mjs").write_text(
        "import { test } from 'node:test';\ntest('x', () => {\n"
    )
    runner = NodeRunner(RunContext(project, 60, {}))
    results = await runner.run(runner.regression_targets())
    by_name = {r.name: r for r in results}
    assert {name: r.status for name, r in by_name.items()} == {
        "broken.test.mjs": "error",
        "test/math.test.js::adds small numbers": "passed",
    }
    assert "SyntaxError" in (by_name["broken.test.mjs"].output or "")


@toolchain
async def test_the_test_script_sets_the_environment(
    toolchain: Callable[[str], None], sample: Callable[[str], Path]
) -> None:
    toolchain("node")
    project = sample("node-tz")
    # The server's own setting loses to the project's script: `TZ=Asia/Tokyo node --test`.
    results = await NodeRunner(RunContext(project, 60, {"TZ": "UTC"})).run(["."])
    assert summary(results) == [
        (
            "test/clock.test.js::runs in the time zone the test script sets",
            "test/clock.test.js",
            "passed",
        )
    ]


@toolchain
async def test_a_workspace_with_a_file_dependency_in_a_worktree(
    toolchain: Callable[[str], None], sample: Callable[[str], Path], tmp_path: Path
) -> None:
    """ESM and CommonJS imports in a worktree without node_modules: installed packages come
    from the checkout, workspace packages and `file:` dependencies from the worktree."""
    toolchain("npm")
    checkout = sample("node-workspace")
    commit_all(checkout)  # no .gitignore: node_modules would show up if it were not hidden
    subprocess.run(
        ["npm", "install", "--offline", "--no-audit", "--no-fund"],
        cwd=checkout, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    worktree = add_worktree(checkout, tmp_path / "task")
    runner = NodeRunner(RunContext(worktree, 60, {}, venv_root=checkout))
    # The root's script only delegates to the workspaces: each member's script runs.
    assert runner.regression_targets() == ["packages/cart", "packages/labels"]

    assert summary(await runner.run(runner.regression_targets())) == [
        ("packages/cart/test/cart.test.js::adds the tax to the total",
         "packages/cart/test/cart.test.js", "passed"),
        ("packages/labels/test/labels.test.js::labels cents",
         "packages/labels/test/labels.test.js", "passed"),
    ]  # fmt: skip

    # A member's test file, alone and again by name.
    [labels] = await runner.run(["packages/labels/test/labels.test.js"])
    assert summary(await runner.rerun([labels])) == summary([labels])

    prices = worktree / "lib" / "prices" / "index.js"
    prices.write_text("export function withTax(cents) {\n  return cents * 2;\n}\n")
    [cart] = await runner.run(["packages/cart"])
    assert cart.status == "failed"
    assert "1000 cents" in (cart.output or "")
    assert changes(worktree) == [" M lib/prices/index.js"]
    assert (checkout / "lib" / "prices" / "index.js").read_text().startswith("export")


@pytest.fixture(scope="session")
def vitest_modules() -> Path:
    """A node_modules holding vitest, installed from the npm registry once and kept."""
    cache = Path(tempfile.gettempdir()) / f"claudeserver-tests-vitest-{VITEST}"
    cache.mkdir(exist_ok=True)
    with (cache / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install for parallel test workers
        if not (cache / "node_modules" / ".bin" / "vitest").exists():
            (cache / "package.json").write_text('{"private": true}')
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", f"vitest@{VITEST}"],
                cwd=cache, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            if done.returncode != 0:
                pytest.skip(f"vitest could not be installed from the npm registry: {done.stderr}")
    return cache / "node_modules"


@toolchain
async def test_vitest_typescript_in_a_worktree(
    toolchain: Callable[[str], None],
    sample: Callable[[str], Path],
    tmp_path: Path,
    vitest_modules: Path,
) -> None:
    toolchain("npm")
    checkout = sample("vitest-ts")
    commit_all(checkout)
    (checkout / "node_modules").symlink_to(vitest_modules)
    worktree = add_worktree(checkout, tmp_path / "task")
    runner = NodeRunner(RunContext(worktree, 60, {}, venv_root=checkout))
    assert (runner.tool, runner.regression_targets()) == ("vitest", ["."])

    (worktree / "src" / "extra.spec.ts").write_text(
        "import { expect, it } from 'vitest';\nimport { hourOf } from './calendar';\n\n"
        "it('is wrong', () => {\n  expect(hourOf(new Date(0))).toBe(0);\n});\n"
        "it('is right', () => {\n  expect(hourOf(new Date(3600_000))).toBe(10);\n});\n"
    )
    results = await runner.run([".", "src/extra.spec.ts"])
    assert summary(results) == [
        ("src/calendar.spec.ts::hourOf::reads the hour in the time zone the test script sets",
         "src/calendar.spec.ts", "passed"),
        ("src/extra.spec.ts::is right", "src/extra.spec.ts", "passed"),
        ("src/extra.spec.ts::is wrong", "src/extra.spec.ts", "failed"),
    ]  # fmt: skip
    wrong = next(r for r in results if r.status == "failed")
    assert "expected 9 to be +0" in (wrong.output or "")
    assert summary(await runner.rerun([wrong])) == [(wrong.name, wrong.file_path, "failed")]
    assert changes(worktree) == ["?? src/extra.spec.ts"]


@pytest.mark.parametrize(
    ("manifest", "tool", "hint"),
    [
        ({"scripts": {"test": "jest --coverage"}}, "jest", "Jest tests, in one or more new files"),
        ({"scripts": {"test": "TZ=UTC vitest"}}, "vitest", "Vitest tests (import"),
        ({"scripts": {"test": "node --test"}}, "node", "tests using Node's built-in test runner"),
        # No test script: the tool the package depends on.
        ({"devDependencies": {"vitest": "^3"}}, "vitest", "Vitest tests (import"),
        ({}, "node", "tests using Node's built-in test runner"),
        ({"scripts": {"test": "mocha"}}, "script", "tests for the project's own test runner"),
        # A script that only calls another one.
        ({"scripts": {"test": "npm run test:unit", "test:unit": "vitest run"}}, "vitest", "Vitest"),
    ],
)
def test_package_json_picks_the_tool_and_its_file_names(
    tmp_path: Path, manifest: dict[str, object], tool: str, hint: str
) -> None:
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    (tmp_path / "tsconfig.json").write_text("{}")
    runner = NodeRunner(RunContext(tmp_path, 60, {}))
    assert runner.tool == tool
    assert runner.framework_hint.startswith(hint)
    assert ("*.spec.ts" in runner.test_file_patterns) == (tool != "node")


def test_a_delegating_workspace_root_is_replaced_by_its_members(tmp_path: Path) -> None:
    manifests = {
        ".": {"scripts": {"test": "pnpm -r test"}},
        "apps/web": {"scripts": {"test": "vitest run"}},
        "packages/core": {"scripts": {"test": "jest"}},
        "packages/types": {},  # no tests
    }
    for directory, manifest in manifests.items():
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
        (tmp_path / directory / "package.json").write_text(json.dumps(manifest))
    (tmp_path / "pnpm-workspace.yaml").write_text("packages:\n  - 'apps/*'\n  - packages/*\n")
    assert [(p.directory, p.tool) for p in find_packages(tmp_path)] == [
        ("apps/web", "vitest"),
        ("packages/core", "jest"),
    ]


@pytest.mark.parametrize(
    ("script", "tool", "setup", "test"),
    [
        ("TZ=UTC vitest run", "vitest", (), "TZ=UTC vitest run --x 'a b'"),
        ("vitest --coverage", "vitest", (), "vitest --x 'a b' --coverage"),
        (
            "cross-env A='1 2' jest && eslint .",
            "jest",
            (),
            "cross-env A='1 2' jest --x 'a b' && eslint .",
        ),
        ("node --test test/", "node", (), "node --test --x 'a b' test/"),
        (
            "node node_modules/jest/bin/jest.js",
            "jest",
            (),
            "node node_modules/jest/bin/jest.js --x 'a b'",
        ),
        # Steps before the tests are set apart: their failure must not hide the tests.
        (
            "pnpm lint && vitest run --typecheck",
            "vitest",
            ("pnpm lint",),
            "vitest run --x 'a b' --typecheck",
        ),
    ],
)
def test_options_go_right_after_the_tool(
    script: str, tool: str, setup: tuple[str, ...], test: str
) -> None:
    package = NodePackage(".", tool, script)
    assert with_arguments(package, lambda _: ["--x", "a b"]) == Script(setup, test)
    with_pretest = NodePackage(".", tool, script, pretest="tsc -b")
    assert with_arguments(with_pretest, lambda _: ["--x", "a b"]) == Script(
        ("tsc -b", *setup), test
    )


@toolchain
async def test_a_failing_step_before_the_tests_is_reported_beside_them(
    toolchain: Callable[[str], None], sample: Callable[[str], Path]
) -> None:
    toolchain("node")
    project = sample("node-tz")
    manifest = json.loads((project / "package.json").read_text())
    manifest["scripts"] = {
        "lint": "node -e \"console.log('style problem'); process.exit(1)\"",
        "test": f"npm run lint && {manifest['scripts']['test']}",
    }
    (project / "package.json").write_text(json.dumps(manifest))
    runner = NodeRunner(RunContext(project, 60, {}))

    results = {r.name: r for r in await runner.run(["."])}
    lint = results.pop("npm test: npm run lint")
    assert (lint.status, [r.status for r in results.values()]) == ("failed", ["passed"])
    assert "style problem" in (lint.output or "")
    assert [r.name for r in await runner.rerun([lint])] == [lint.name]
    # Passing, the step is a result too: a baseline knows it passed before the task.
    manifest["scripts"]["lint"] = "node -e \"console.log('clean')\""
    (project / "package.json").write_text(json.dumps(manifest))
    statuses = {r.name: r.status for r in await runner.run(["."])}
    assert statuses.pop("npm test: npm run lint") == "passed"
    assert list(statuses.values()) == ["passed"]


def test_links_lead_to_installed_packages_in_the_checkout_and_sources_in_the_worktree(
    tmp_path: Path,
) -> None:
    """A pnpm-style layout: a store under node_modules/.pnpm, a scoped workspace package,
    an executable of it; packages installed later are added, the agent's own are kept."""
    checkout, worktree = tmp_path / "checkout", tmp_path / "task"
    for root in (checkout, worktree):
        (root / "packages" / "ui").mkdir(parents=True)
        (root / "package.json").write_text("{}")
    (worktree / ".git").write_text("gitdir: elsewhere")
    modules = checkout / "node_modules"
    (modules / ".pnpm" / "lodash@4" / "node_modules" / "lodash").mkdir(parents=True)
    (modules / "@acme").mkdir()
    (modules / ".bin").mkdir()
    (modules / "lodash").symlink_to(".pnpm/lodash@4/node_modules/lodash")
    (modules / "@acme" / "ui").symlink_to("../../packages/ui")
    (modules / ".bin" / "ui").symlink_to("../@acme/ui/cli.js")
    (modules / ".vite").mkdir()  # a tool's cache: each workspace keeps its own

    link_node_modules(worktree, checkout)
    linked = worktree / "node_modules"
    assert (linked / "lodash").readlink() == modules / "lodash"
    assert (linked / "@acme" / "ui").readlink() == worktree / "packages" / "ui"
    assert (linked / ".bin" / "ui").readlink() == worktree / "packages" / "ui" / "cli.js"
    assert not (linked / ".vite").exists()

    (modules / "chalk").mkdir()
    (modules / "@acme" / "icons").mkdir()
    link_node_modules(worktree, checkout)
    assert (linked / "chalk").readlink() == modules / "chalk"
    assert (linked / "@acme" / "icons").readlink() == modules / "@acme" / "icons"

    (worktree / "packages" / "ui" / "node_modules").mkdir()  # installed by the agent
    (checkout / "packages" / "ui" / "node_modules" / "react").mkdir(parents=True)
    link_node_modules(worktree, checkout)
    assert list((worktree / "packages" / "ui" / "node_modules").iterdir()) == []
