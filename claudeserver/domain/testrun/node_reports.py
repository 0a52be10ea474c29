"""Reading per-test results of JavaScript test tools.

jest's --json report and vitest's json reporter share a format, with absolute file paths.
Node's own junit reporter has no file attribute, so `node --test` gets REPORTER, which
writes one JSON line per finished test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claudeserver.domain.testrun.command_runner import project_relative, tail
from claudeserver.domain.testrun.junit import TestResult

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
