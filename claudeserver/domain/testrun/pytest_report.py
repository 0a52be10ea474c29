"""A pytest plugin: each test's node id, outcome, duration and failure text as JSON lines.

The pytest runner copies this file alone into a temporary directory, puts that directory
on PYTHONPATH and loads it with `-p claudeserver_pytest_report`: the project's own
interpreter runs it and need not have claudeserver installed. So it imports only the
standard library and pytest, and keeps to what older Pythons and pytests offer.

It writes to the file named by $CLAUDESERVER_PYTEST_REPORT, one object a line:
  {"session": <pytest version>}                  once, when pytest is configured
  {"start": <node id>}                           when a test starts (a crash names it)
  {"name", "file", "status", "duration", "output"}  a test, or a file that cannot be loaded
Node ids are pytest's own, so a test a subclass inherits is reported under the subclass.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

REPORT_ENV = "CLAUDESERVER_PYTEST_REPORT"
# The user's checkout when the tests run in a worktree of it: any module imported from
# there (outside its virtualenv) means the tests did not test the worktree's code.
CHECKOUT_ENV = "CLAUDESERVER_CHECKOUT"
CHECKOUT_IMPORT = "[modules imported from the user's checkout]"

MAX_OUTPUT = 4000  # characters of failure text per test
HEAD = 1000  # of which the start (the test's own frame); the rest is the traceback's end

_state: dict[str, Any] = {"report": None, "rootdir": None}
_tests: dict[str, dict[str, Any]] = {}


def pytest_configure(config: pytest.Config) -> None:
    report = os.environ.get(REPORT_ENV)
    _state["rootdir"] = str(getattr(config, "rootpath", None) or getattr(config, "rootdir", "."))
    # Under pytest-xdist the workers' reports reach the controller, which writes them once.
    if report and not hasattr(config, "workerinput"):
        _state["report"] = report
        _write({"session": pytest.__version__})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _state["report"] and report.failed:
        name = report.nodeid or "."
        _write(
            {
                "name": name,
                "file": name.split("::")[0],
                "status": "error",
                "duration": None,
                "output": _bounded(report.longreprtext),
            }
        )


def pytest_runtest_logstart(nodeid: str) -> None:
    if _state["report"]:
        _write({"start": nodeid})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _state["report"] or str(report.outcome) == "rerun":  # pytest-rerunfailures' retries
        return
    if report.when == "setup":  # a test run again starts afresh
        _tests[report.nodeid] = {"status": None, "duration": 0.0, "output": None}
    test = _tests.setdefault(report.nodeid, {"status": None, "duration": 0.0, "output": None})
    test["duration"] += report.duration or 0.0
    status = _status(report, test["status"])
    if status != test["status"]:
        test["status"], test["output"] = status, None if status == "passed" else _output(report)
    # pytest-xdist reports a crashed worker's test once, with `when` "???".
    if report.when not in ("setup", "call"):
        del _tests[report.nodeid]
        if test["status"] is not None:
            _write(
                {
                    "name": report.nodeid,
                    "file": report.nodeid.split("::")[0],
                    "status": test["status"],
                    "duration": round(test["duration"], 6),
                    "output": test["output"],
                }
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Every process that ran tests checks where they imported from (xdist workers too)."""
    checkout = os.environ.get(CHECKOUT_ENV)
    report = os.environ.get(REPORT_ENV)
    if not checkout or not report:
        return
    foreign = _checkout_modules(checkout)
    if foreign:
        listed = "\n".join(f"  {name}: {path}" for name, path in foreign[:20])
        _write(
            {
                "name": CHECKOUT_IMPORT,
                "file": None,
                "status": "error",
                "duration": None,
                "output": (
                    f"These modules were imported from the user's checkout {checkout}, not "
                    f"from the task's workspace {_state['rootdir']}, so the tests did not "
                    f"test the workspace's code:\n{listed}"
                ),
            },
            report,
        )


def _status(report: pytest.TestReport, current: str | None) -> str | None:
    expected_failure = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.skipped:
            return "xfail" if expected_failure else "skipped"
        # A non-strict unexpected pass is "passed"; a strict one is reported as failed.
        return "failed" if report.failed else "passed"
    if report.failed:  # a fixture failed: pytest calls that an error
        return current if current == "failed" else "error"
    if report.skipped and report.when == "setup":
        return "xfail" if expected_failure else "skipped"
    return current


def _output(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail) or None
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])
    return _bounded(report.longreprtext) if longrepr else None


def _bounded(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    left_out = len(text) - MAX_OUTPUT
    return f"{text[:HEAD]}\n… ({left_out} characters left out) …\n{text[-(MAX_OUTPUT - HEAD) :]}"


def _checkout_modules(checkout: str) -> list[tuple[str, str]]:
    inside = os.path.realpath(checkout) + os.sep
    allowed = [os.path.realpath(p) + os.sep for p in (sys.prefix, _state["rootdir"] or ".")]
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        real = os.path.realpath(path)
        if real.startswith(inside) and not any(real.startswith(a) for a in allowed):
            found.append((name, real))
    return sorted(found)


def _write(record: dict[str, Any], path: str | None = None) -> None:
    # Appended and closed line by line: what a crashed run wrote is still there.
    with open(path or _state["report"], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
