"""A tolerant JUnit XML parser, for test commands that write JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from claudeserver.domain.testrun.base import TestResult

# The other runners still import TestResult from here.
__all__ = ["MAX_OUTPUT_CHARS", "TestResult", "parse_junit"]

MAX_OUTPUT_CHARS = 8000


def parse_junit(xml_text: str) -> list[TestResult]:
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return []
    return [_result(case) for case in root.iter("testcase")]


def _result(case: ET.Element) -> TestResult:
    file_path = case.get("file")
    classname = case.get("classname", "")
    name = case.get("name", "")
    status, output = "passed", None
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            status = {"failure": "failed"}.get(child.tag, child.tag)
            text = "\n".join(p for p in (child.get("message"), child.text) if p)
            output = text[-MAX_OUTPUT_CHARS:] if text else None
            break
    if not classname and status == "error":
        # A collection error: pytest reports the module as the test name.
        return TestResult(name, file_path, status, output, _duration(case))
    return TestResult(
        _node_id(file_path, classname, name), file_path, status, output, _duration(case)
    )


def _node_id(file_path: str | None, classname: str, name: str) -> str:
    if not file_path:
        return f"{classname}::{name}" if classname else name
    module = ".".join(PurePosixPath(file_path).with_suffix("").parts)
    classes = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
    parts = [file_path, *(c for c in classes.split(".") if c), name]
    return "::".join(parts)


def _duration(case: ET.Element) -> float | None:
    try:
        return float(case.get("time", ""))
    except ValueError:
        return None
