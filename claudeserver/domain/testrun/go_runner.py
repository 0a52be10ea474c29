"""Go projects: `go test -json` over every package of the module (or of each module of a
go.work), each test named as go prints it (`example.com/m/pkg.TestName/sub`) and mapped to
the *_test.go file defining its function.

In a worktree, `replace` directives that lead into the user's checkout (absolute paths) or
out of the repository (relative paths, which the worktree's other location would break) are
redirected: to the worktree's counterpart, or to where the checkout's relative path leads.
go.mod stays as it is; go reads an edited copy (`-modfile`, or GOWORK for a go.work).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute
from claudeserver.domain.testrun.checkout import Counterparts, counterparts
from claudeserver.domain.testrun.command_runner import tail
from claudeserver.domain.testrun.junit import TestResult

# Never reach the network: no module downloads, no toolchain switch for a newer `go` line
# in go.mod. The server's own environment may still override these.
OFFLINE_ENV = {"GOPROXY": "off", "GOTOOLCHAIN": "local"}
EVERYTHING = "./..."
BUILD_FAILED = "build failed"

_TEST_FUNC = re.compile(r"^func\s+((?:Test|Example|Fuzz)\w*)\s*\(", re.MULTILINE)
# Go < 1.24 reports build failures as plain text, not JSON.
_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(?:build|setup) failed\]", re.MULTILINE)
_GO_FILE = re.compile(r"^\s*(\S+\.go):\d+", re.MULTILINE)
# A result's name: the package's import path, then the test (its first part a Go name).
_NAME = re.compile(r"^(.+?)\.((?:Test|Example|Fuzz)[^./]*(?:/.*)?)$")
_STATUS = {"pass": "passed", "fail": "failed", "skip": "skipped"}


@dataclass(frozen=True)
class _Module:
    directory: str  # relative to the project, "." for the project itself
    path: str  # module path, e.g. example.com/m
    use: str = "."  # as go.work's `use` spells the directory


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
        return [EVERYTHING]  # every package of every module

    async def run(self, targets: list[str]) -> list[TestResult]:
        """go test selects packages, not files: a file target runs its package (unless a
        `...` target covers it) and only that file's results are kept."""
        modules = await self._modules()
        patterns: list[str] = []
        files: set[str] = set()
        for target in dict.fromkeys(targets):
            if target == EVERYTHING:
                patterns += [_pattern(m.directory, "...") for m in modules]
            elif target.endswith("..."):
                patterns.append(target)
            else:
                files.add(target)
        whole = [p.removesuffix("...").rstrip("/") for p in patterns]
        for file in sorted(files):
            directory = PurePosixPath(file).parent.as_posix()
            if not any(_covers(w, directory) for w in whole):
                patterns.append(_pattern(directory, ""))
        if not patterns:
            return []
        results = await self._go_test(list(dict.fromkeys(patterns)), modules)
        results += await self._without_broken_tests(results, modules)
        if whole:
            return results
        return [r for r in results if r.file_path in files or r.name.endswith("]")]

    async def _without_broken_tests(
        self, results: list[TestResult], modules: list[_Module]
    ) -> list[TestResult]:
        """A *_test.go file that does not compile stops its whole package: the package's
        other tests run again with that file left out (go's -overlay)."""
        suffix = f" [{BUILD_FAILED}]"
        broken: dict[str, str] = {}  # file -> its package
        for result in results:
            file = result.file_path
            if file and file.endswith("_test.go") and result.name.endswith(suffix):
                broken[file] = result.name.removesuffix(suffix)
        if not broken:
            return []
        with tempfile.TemporaryDirectory(prefix="claudeserver-go-") as tmp:
            overlay = Path(tmp, "overlay.json")
            deleted = {str(self.ctx.project / file): "" for file in broken}
            overlay.write_text(json.dumps({"Replace": deleted}))
            arguments = [f"-overlay={overlay}", *broken.values()]
            again = await self._go_test(arguments, modules, files=Path(tmp))
        return [r for r in again if _NAME.match(r.name)]

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """Exactly these tests again, uncached: `-run` with each level of their names."""
        modules = await self._modules()
        tests: dict[str, list[str]] = {}  # package -> test names; [] for the whole package
        for result in results:
            match = _NAME.match(result.name)
            if match is None:  # `pkg [build failed]`: the package runs whole
                tests[result.name.split(" ")[0]] = []
            elif tests.get(match.group(1)) != []:
                tests.setdefault(match.group(1), []).append(match.group(2))
        wanted = {r.name for r in results}
        found: list[TestResult] = []
        for names, packages in _grouped(tests).items():
            options = ["-run", _run_pattern(names)] if names else []
            found += await self._go_test(["-count=1", *options, *packages], modules)
        return [r for r in found if r.name in wanted]

    async def _go_test(
        self, arguments: list[str], modules: list[_Module], files: Path | None = None
    ) -> list[TestResult]:
        """`go test -json <arguments>`; `files`: a directory of ours they name (the run
        sees its own /tmp)."""
        with tempfile.TemporaryDirectory(prefix="claudeserver-go-") as tmp:
            flags, env = await self._redirects(modules, Path(tmp))
            ctx = dataclasses.replace(self.ctx, env={**self.ctx.env, **env})
            args = ["go", "test", "-json", *flags, *arguments]
            writable = [Path(tmp), *([files] if files else [])]
            code, output = await execute(args, ctx, writable=writable)
        results = parse_go_test_json(output, self.ctx.project, modules)
        if code != 0 and not any(r.status in ("failed", "error") for r in results):
            results.append(TestResult("go test", None, "error", tail(output), None))
        return results

    async def _modules(self) -> list[_Module]:
        if shutil.which("go") is None:
            raise TestRunError("go is not installed (scripts/install-toolchains installs it)")
        if (self.ctx.project / "go.work").is_file():
            work = await self._edit_json("work")
            return [
                _Module(
                    PurePosixPath(u["DiskPath"]).as_posix(), u.get("ModPath") or "", u["DiskPath"]
                )
                for u in work.get("Use") or []
            ]
        module = (await self._edit_json("mod", "go.mod")).get("Module") or {}
        return [_Module(".", str(module.get("Path", "")))]

    async def _edit_json(self, kind: str, file: str | None = None) -> dict[str, Any]:
        """go.mod or go.work as go itself parses it (`go mod edit -json`); empty when it
        does not parse (`go test` then says why, to the agent too)."""
        code, output = await execute(
            ["go", kind, "edit", "-json", *([file] if file else [])], self.ctx
        )
        try:
            parsed = json.loads(output) if code == 0 else None
        except ValueError:
            parsed = None
        return parsed if isinstance(parsed, dict) else {}

    async def _redirects(
        self, modules: list[_Module], tmp: Path
    ) -> tuple[list[str], dict[str, str]]:
        """go flags and environment that redirect `replace` paths, written to `tmp`."""
        tops = counterparts(self.ctx.project, self.ctx.venv_root)
        if tops is None:
            return [], {}
        work = self.ctx.project / "go.work"
        # A go.work's own modules win over any go.mod's replacement of them.
        own = {m.path for m in modules} if work.is_file() else set()
        replaces = [
            (self.ctx.project / m.directory, r)
            for m in modules
            for r in (await self._edit_json("mod", f"{m.directory}/go.mod")).get("Replace") or []
            if r["Old"]["Path"] not in own
        ]
        if work.is_file():
            replaces += [
                (self.ctx.project, r) for r in (await self._edit_json("work")).get("Replace") or []
            ]
        edits = [
            f"-replace={_old(r)}={new}" for base, r in replaces if (new := _redirect(base, r, tops))
        ]
        if not edits:
            return [], {}
        if work.is_file():
            copy = Path(shutil.copy(work, tmp / "go.work"))
            _copy_if_present(self.ctx.project / "go.work.sum", tmp / "go.work.sum")
            # Relative `use` paths would be read relative to the copy.
            uses = [f"-dropuse={m.use}" for m in modules]
            uses += [f"-use={self.ctx.project / m.directory}" for m in modules]
            await self._edit(["go", "work", "edit", *uses, *edits, str(copy)], tmp)
            return [], {"GOWORK": str(copy)}
        copy = Path(shutil.copy(self.ctx.project / "go.mod", tmp / "go.mod"))
        _copy_if_present(self.ctx.project / "go.sum", tmp / "go.sum")
        await self._edit(["go", "mod", "edit", *edits, str(copy)], tmp)
        return [f"-modfile={copy}"], {}

    async def _edit(self, args: list[str], copies: Path) -> None:
        """`go mod edit` or `go work edit` of our copy in `copies`."""
        code, output = await execute(args, self.ctx, writable=[copies])
        if code != 0:
            raise TestRunError(f"{' '.join(args[:3])} failed:\n{tail(output)}")


def _pattern(directory: str, suffix: str) -> str:
    if directory in ("", "."):
        return f"./{suffix}" if suffix else "."
    return f"./{directory.removeprefix('./')}/{suffix}".rstrip("/")


def _covers(directory: str, path: str) -> bool:
    directory = directory.removeprefix("./").rstrip("/") or "."
    return directory == "." or PurePosixPath(path).is_relative_to(directory)


def _old(replace: dict[str, Any]) -> str:
    old = replace["Old"]
    return f"{old['Path']}@{old['Version']}" if old.get("Version") else str(old["Path"])


def _redirect(base: Path, replace: dict[str, Any], tops: Counterparts) -> Path | None:
    """Where a local `replace` should lead from the worktree, if not where it leads now."""
    new = replace["New"]
    path = str(new.get("Path", ""))
    if new.get("Version") or not path.startswith(("./", "../", "/")):
        return None  # a module version, not a directory
    here = Path(os.path.normpath(base / path))
    checkout_base = tops.in_checkout(base)
    if checkout_base is None:
        return None
    there = Path(os.path.normpath(checkout_base / path))
    wanted = tops.in_worktree(there) or there
    return None if wanted == here else wanted


def _copy_if_present(source: Path, dest: Path) -> None:
    if source.is_file():
        shutil.copy(source, dest)


def _grouped(tests: dict[str, list[str]]) -> dict[tuple[str, ...], list[str]]:
    """Packages that run the same tests share one `go test` call."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for package, names in tests.items():
        groups.setdefault(tuple(sorted(set(names))), []).append(package)
    return groups


def _run_pattern(names: Iterable[str]) -> str:
    """`-run` takes one regular expression per level of a test name (`Top/sub`)."""
    levels: list[set[str]] = []
    for name in names:
        for depth, part in enumerate(name.split("/")):
            if depth == len(levels):
                levels.append(set())
            levels[depth].add(re.escape(part))
    return "/".join(f"^(?:{'|'.join(sorted(level))})$" for level in levels)


@dataclass
class _Test:
    package: str
    name: str
    status: str | None = None
    elapsed: float | None = None
    output: list[str] = field(default_factory=list)


def parse_go_test_json(
    output: str, project: Path, modules: list[_Module] | None = None
) -> list[TestResult]:
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
            test = tests.setdefault((package, event["Test"]), _Test(package, event["Test"]))
            test.output.append(text)
            if action in _STATUS:
                test.status, test.elapsed = _STATUS[action], event.get("Elapsed")
        else:
            package_output.setdefault(package, []).append(text)
            if action in ("fail", "build-fail"):
                failed_packages.add(package)
    failed_packages.update(_BUILD_FAILED.findall("".join(plain)))

    locate = _Locator(project, modules)
    results = []
    for test in tests.values():
        children = [
            t
            for t in tests.values()
            if t.package == test.package and t.name.startswith(f"{test.name}/")
        ]
        status = test.status or "failed"  # started but never finished: the binary died
        if children and (
            status != "failed" or any((c.status or "failed") == "failed" for c in children)
        ):
            continue  # its subtests carry the outcome
        text = "".join(test.output)
        if test.status is None:
            text += "".join(package_output.get(test.package, []))
        file = locate.file(test.package, test.name.split("/")[0])
        detail = tail(text) if status != "passed" else None
        results.append(
            TestResult(f"{test.package}.{test.name}", file, status, detail, test.elapsed)
        )
    for package in sorted(failed_packages):
        if not any(t.package == package and t.status == "failed" for t in tests.values()):
            # The package failed outside its tests: a compile error, TestMain, a panic.
            text = "".join(plain) + "".join(package_output.get(package, []))
            file = locate.first_file_in(text, package)
            what = BUILD_FAILED if f"[{BUILD_FAILED}]" in text else "package failed"
            results.append(TestResult(f"{package} [{what}]", file, "error", tail(text), None))
    return results


class _Locator:
    """Import path -> directory (via the modules' paths) -> *_test.go defining a test."""

    def __init__(self, project: Path, modules: list[_Module] | None) -> None:
        self.project = project
        if modules is None:
            try:
                text = (project / "go.mod").read_text()
            except OSError:
                text = ""
            match = re.search(r"^module\s+\"?([^\s\"]+)", text, re.M)
            modules = [_Module(".", match.group(1) if match else "")]
        # Longest module path first: a nested module's packages are its own.
        self.modules = sorted(modules, key=lambda m: -len(m.path))
        self.index: dict[str, dict[str, str]] = {}

    def directory(self, package: str) -> str:
        for module in self.modules:
            if module.path and (package == module.path or package.startswith(f"{module.path}/")):
                rest = package[len(module.path) :].lstrip("/")
                return (
                    (PurePosixPath(module.directory) / rest).as_posix()
                    if rest
                    else module.directory
                )
        return package

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
            for candidate in (relative, directory / relative.name):
                if candidate.parent == directory and (self.project / candidate).is_file():
                    return candidate.as_posix()
        return None
