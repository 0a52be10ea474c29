"""Go projects: `go test -json ./...`, each top-level test mapped to its *_test.go file."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute, rerun_files
from claudeserver.domain.testrun.command_runner import tail
from claudeserver.domain.testrun.junit import TestResult

# Never reach the network: no module downloads, no toolchain switch for a newer `go` line
# in go.mod. The server's own environment may still override these.
OFFLINE_ENV = {"GOPROXY": "off", "GOTOOLCHAIN": "local"}

_TEST_FUNC = re.compile(r"^func\s+((?:Test|Example|Fuzz)\w*)\s*\(", re.MULTILINE)
# Go < 1.24 reports build failures as plain text, not JSON.
_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(?:build|setup) failed\]", re.MULTILINE)
_GO_FILE = re.compile(r"^\s*(\S+\.go):\d+", re.MULTILINE)
_STATUS = {"pass": "passed", "fail": "failed", "skip": "skipped"}


class GoRunner:
    name = "go"
    test_file_patterns: tuple[str, ...] = ("*_test.go",)
    framework_hint = (
        "Go test functions (func TestXxx(t *testing.T)), in one or more new files named "
        "*_test.go next to the code they test"
    )

    def __init__(self, ctx: RunContext) -> None:
        defaults = {k: v for k, v in OFFLINE_ENV.items() if k not in os.environ}
        self.ctx = dataclasses.replace(ctx, env={**defaults, **ctx.env})

    def regression_targets(self) -> list[str]:
        return ["./..."]

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        return await rerun_files(self, results)

    async def run(self, targets: list[str]) -> list[TestResult]:
        """Always every package: go test selects packages, not files, and a generated
        *_test.go file belongs to a package that `./...` covers anyway."""
        if shutil.which("go") is None:
            raise TestRunError("go is not installed (scripts/install-toolchains installs it)")
        code, output = await execute(["go", "test", "-json", "./..."], self.ctx)
        results = parse_go_test_json(output, self.ctx.project)
        if code != 0 and not any(r.status in ("failed", "error") for r in results):
            results.append(TestResult("go test ./...", None, "error", tail(output), None))
        return results


@dataclass
class _Test:
    package: str
    name: str
    status: str | None = None
    elapsed: float | None = None
    output: list[str] = field(default_factory=list)


def parse_go_test_json(output: str, project: Path) -> list[TestResult]:
    tests: dict[tuple[str, str], _Test] = {}
    package_output: dict[str, list[str]] = {}
    failed_packages: set[str] = set()
    plain: list[str] = []  # non-JSON lines: compiler errors
    for line in output.splitlines(keepends=True):
        try:
            event = json.loads(line) if line.startswith("{") else None
        except ValueError:
            event = None
        if not isinstance(event, dict):
            plain.append(line)
            continue
        # Go >= 1.24 reports build output with an ImportPath like "pkg [pkg.test]".
        package = event.get("Package") or str(event.get("ImportPath", "")).split(" ")[0]
        action, text = event.get("Action"), event.get("Output", "")
        if event.get("Test"):
            # Subtests are part of their top-level test: one result per test function.
            top = event["Test"].split("/")[0]
            test = tests.setdefault((package, top), _Test(package, top))
            test.output.append(text)
            if event["Test"] == top and action in _STATUS:
                test.status, test.elapsed = _STATUS[action], event.get("Elapsed")
        else:
            package_output.setdefault(package, []).append(text)
            if action in ("fail", "build-fail"):
                failed_packages.add(package)
    failed_packages.update(_BUILD_FAILED.findall("".join(plain)))

    locate = _Locator(project)
    results = []
    for test in tests.values():
        file = locate.file(test.package, test.name)
        name = f"{file or locate.directory(test.package)}::{test.name}"
        status = test.status or "failed"  # started but never finished: the binary died
        text = "".join(test.output)
        if test.status is None:
            text += "".join(package_output.get(test.package, []))
        detail = tail(text) if status != "passed" else None
        results.append(TestResult(name, file, status, detail, test.elapsed))
    for package in sorted(failed_packages):
        if not any(t.package == package and t.status == "failed" for t in tests.values()):
            # The package failed outside its tests: a compile error, TestMain, a panic.
            text = "".join(plain) + "".join(package_output.get(package, []))
            file = locate.first_file_in(text, package)
            what = "build failed" if "[build failed]" in text else "package failed"
            name = f"{file or locate.directory(package)}::[{what}]"
            results.append(TestResult(name, file, "error", tail(text), None))
    return results


class _Locator:
    """Import path -> directory (via go.mod's module path) -> *_test.go defining a test."""

    def __init__(self, project: Path) -> None:
        self.project = project
        try:
            match = re.search(r"^module\s+\"?([^\s\"]+)", (project / "go.mod").read_text(), re.M)
        except OSError:
            match = None
        self.module = match.group(1) if match else ""
        self.index: dict[str, dict[str, str]] = {}

    def directory(self, package: str) -> str:
        if package == self.module:
            return "."
        return package.removeprefix(f"{self.module}/") if self.module else package

    def file(self, package: str, test: str) -> str | None:
        directory = self.directory(package)
        if directory not in self.index:
            found: dict[str, str] = {}
            for path in sorted((self.project / directory).glob("*_test.go")):
                relative = path.relative_to(self.project).as_posix()
                for name in _TEST_FUNC.findall(path.read_text(errors="replace")):
                    found.setdefault(name, relative)
            self.index[directory] = found
        return self.index[directory].get(test)

    def first_file_in(self, text: str, package: str) -> str | None:
        """The first of the package's files a compiler message names (`dir/x_test.go:3:1:`)."""
        directory = PurePosixPath(self.directory(package))
        for path in _GO_FILE.findall(text):
            relative = PurePosixPath(path.removeprefix("./"))
            if relative.parent == directory and (self.project / relative).is_file():
                return relative.as_posix()
        return None
