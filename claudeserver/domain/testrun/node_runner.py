"""JavaScript/TypeScript projects: jest, vitest or Node's built-in test runner.

Per-test results come from JSON, not JUnit: jest and vitest write the same JSON report
(with absolute file paths), and Node's built-in junit reporter has no file attribute, so
for `node --test` a small custom reporter writes one JSON line per test instead.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute, rerun_files
from claudeserver.domain.testrun.command_runner import project_relative, tail
from claudeserver.domain.testrun.discovery import find_files
from claudeserver.domain.testrun.junit import TestResult

_JS = ("js", "mjs", "cjs")
_JS_TS = ("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts")
# What `node --test` finds by default (Node 20); paths containing "/" match relative paths.
NODE_PATTERNS = tuple(
    p
    for ext in _JS
    for p in (
        f"*.test.{ext}", f"*-test.{ext}", f"*_test.{ext}", f"test-*.{ext}",
        f"test/*.{ext}", f"*/test/*.{ext}",
    )
)  # fmt: skip
# jest's and vitest's default test file names.
JEST_PATTERNS = (
    *(f"*.{kind}.{ext}" for kind in ("test", "spec") for ext in _JS_TS),
    *(f"*__tests__/*.{ext}" for ext in _JS_TS),
)

# Node's test runner reporter: every finished test with its file and ancestors' names.
# Tests with subtests and suites are marked `parent`, their outcome follows from their
# children unless they failed on their own (a hook, a throwing describe body).
REPORTER = r"""
import { inspect } from 'node:util';

export default async function* reporter(source) {
  const stacks = new Map();
  const parents = new Set();
  const output = new Map();
  for await (const { type, data } of source) {
    const file = data.file ?? '';
    if (type === 'test:stdout' || type === 'test:stderr') {
      output.set(file, (output.get(file) ?? '') + data.message);
    } else if (type === 'test:start') {
      const stack = (stacks.get(file) ?? []).slice(0, data.nesting);
      if (stack.length) parents.add(JSON.stringify([file, ...stack]));
      stacks.set(file, [...stack, data.name]);
    } else if (type === 'test:pass' || type === 'test:fail') {
      const path = [...(stacks.get(file) ?? []).slice(0, data.nesting), data.name];
      const error = data.details.error;
      yield JSON.stringify({
        file,
        path,
        parent: data.details.type === 'suite' || parents.has(JSON.stringify([file, ...path])),
        skipped: data.skip !== undefined || data.todo !== undefined,
        failed: type === 'test:fail',
        failureType: error?.failureType ?? null,
        error: error ? inspect(error.cause ?? error) : null,
        output: output.get(file) ?? '',
        duration: (data.details.duration_ms ?? 0) / 1000,
      }) + '\n';
    }
  }
}
"""


def detect_tool(project: Path) -> str:
    """jest or vitest when package.json's test script uses them, else node."""
    try:
        package = json.loads((project / "package.json").read_text())
        script = str(package.get("scripts", {}).get("test", ""))
    except (OSError, ValueError, AttributeError):
        script = ""
    return next((tool for tool in ("vitest", "jest") if tool in script), "node")


class NodeRunner:
    name = "node"

    def __init__(self, ctx: RunContext) -> None:
        # CI=true: jest and vitest never start watch mode, even with a terminal on stdin.
        env = {"CI": "true"}
        self.modules = next(
            (
                r / "node_modules"
                for r in (ctx.project, ctx.venv_root)
                if r and (r / "node_modules").is_dir()
            ),
            None,
        )
        if self.modules and self.modules.parent != ctx.project:
            # A worktree without node_modules: require() finds the origin's packages.
            env["NODE_PATH"] = str(self.modules)
        self.ctx = dataclasses.replace(ctx, env={**env, **ctx.env})
        self.tool = detect_tool(ctx.project)
        if self.tool == "node":
            self.test_file_patterns: tuple[str, ...] = NODE_PATTERNS
            self.framework_hint = (
                "tests using Node's built-in test runner (node:test and node:assert), in one "
                "or more new files named *.test.js (*.test.mjs for ES modules)"
            )
        else:
            ext = "ts" if (ctx.project / "tsconfig.json").is_file() else "js"
            self.test_file_patterns = JEST_PATTERNS
            self.framework_hint = (
                f"{self.tool.capitalize()} tests, in one or more new files named *.test.{ext}"
            )

    def regression_targets(self) -> list[str]:
        if self.tool != "node":
            return ["."]  # jest and vitest find the project's tests themselves
        return find_files(self.ctx.project, NODE_PATTERNS)

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        return await rerun_files(self, results)

    async def run(self, targets: list[str]) -> list[TestResult]:
        if self.tool == "node":
            return await self._run_node(targets)
        return await self._run_jest_like()

    async def _run_jest_like(self) -> list[TestResult]:
        """The whole suite: both pick up their config; file arguments would be regexes."""
        binary = self.modules / ".bin" / self.tool if self.modules else None
        if binary and binary.is_file():
            command = [str(binary)]
        elif shutil.which("npx"):
            command = ["npx", "--no", "--", self.tool]  # --no: never download it
        else:
            raise TestRunError("npx is not installed, so jest/vitest tests cannot run")
        with tempfile.TemporaryDirectory(prefix="claudeserver-node-") as tmp:
            report = Path(tmp, "report.json")
            options = [f"--outputFile={report}"]
            args = (
                [*command, "--ci", "--json", *options]
                if self.tool == "jest"
                else [*command, "run", "--reporter=json", *options]
            )
            _, output = await execute(args, self.ctx, writable=[Path(tmp)])
            if not report.exists():
                raise TestRunError(
                    f"{self.tool} wrote no report (is it installed? run npm install in the "
                    f"project):\n{output[-2000:]}"
                )
            return parse_jest_json(report.read_text(errors="replace"), self.ctx.project)

    async def _run_node(self, targets: list[str]) -> list[TestResult]:
        files = [t for t in targets if (self.ctx.project / t).is_file()]
        if not files:
            return []
        if shutil.which("node") is None:
            raise TestRunError("node is not installed, so the project's tests cannot run")
        with tempfile.TemporaryDirectory(prefix="claudeserver-node-") as tmp:
            reporter, report = Path(tmp, "reporter.mjs"), Path(tmp, "results.jsonl")
            reporter.write_text(REPORTER)
            args = [
                "node", "--test",
                f"--test-reporter={reporter}", f"--test-reporter-destination={report}",
                "--test-reporter=spec", "--test-reporter-destination=stdout",
                *files,
            ]  # fmt: skip
            _, output = await execute(args, self.ctx, writable=[Path(tmp)])
            if not report.exists():
                raise TestRunError(f"node --test wrote no report:\n{output[-2000:]}")
            return parse_node_events(report.read_text(errors="replace"), self.ctx.project)


def parse_node_events(jsonl: str, project: Path) -> list[TestResult]:
    results = []
    for line in jsonl.splitlines():
        try:
            event: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        file = project_relative(event["file"].removeprefix("file://"), project)
        path: list[str] = event["path"]
        own_failure = event["failed"] and event["failureType"] != "subtestsFailed"
        if path == [event["file"]]:
            # The file itself failed (syntax error, crash): its output says why.
            if event["failed"]:
                text = f"{event['error'] or ''}\n{event['output']}".strip()
                results.append(TestResult(file, file, "error", tail(text), event["duration"]))
            continue
        if event["parent"] and not own_failure:
            continue
        if event["skipped"]:
            status = "skipped"
        elif event["parent"]:
            status = "error"
        else:
            status = "failed" if event["failed"] else "passed"
        output = tail(event["error"]) if event["failed"] and event["error"] else None
        name = "::".join([file, *path])
        results.append(TestResult(name, file, status, output, event["duration"]))
    return results


_JEST_STATUS = {"passed": "passed", "failed": "failed"}  # pending, skipped, todo, disabled


def parse_jest_json(text: str, project: Path) -> list[TestResult]:
    """jest's --json report; vitest's json reporter writes the same format."""
    try:
        report = json.loads(text)
    except ValueError:
        return []
    results = []
    for suite in report.get("testResults", []):
        file = project_relative(suite["name"], project)
        cases = suite.get("assertionResults", [])
        if suite.get("status") == "failed" and not any(c["status"] == "failed" for c in cases):
            # The file failed outside any test: it did not load, or a hook threw.
            results.append(TestResult(file, file, "error", tail(suite.get("message", "")), None))
        for case in cases:
            status = _JEST_STATUS.get(case["status"], "skipped")
            failure = "\n".join(case.get("failureMessages") or [])
            duration = case.get("duration")
            results.append(
                TestResult(
                    "::".join([file, *case.get("ancestorTitles", []), case["title"]]),
                    file,
                    status,
                    tail(failure) if status == "failed" and failure else None,
                    duration / 1000 if isinstance(duration, (int, float)) else None,
                )
            )
    return results
