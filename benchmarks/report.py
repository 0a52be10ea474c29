"""Case results, their targets (PASS/FAIL never fails the run), the table and the JSON."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Target:
    name: str
    value: float
    limit: float
    unit: str
    # "max": value must be <= limit; "min": value must be >= limit.
    kind: str = "max"

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value <= self.limit if self.kind == "max" else self.value >= self.limit


@dataclass
class CaseResult:
    name: str
    title: str
    metrics: dict[str, Any]
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["targets"] = [{**asdict(t), "passed": t.passed} for t in self.targets]
        return body


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def table(results: list[CaseResult]) -> str:
    """A Markdown table: one row per target, plus a row for a case that crashed."""
    rows = ["| Case | Measure | Result | Target | |", "|---|---|---|---|---|"]
    for case in results:
        if case.error is not None:
            rows.append(f"| {case.title} | error | {case.error[:80]} | | FAIL |")
        for t in case.targets:
            op = "≤" if t.kind == "max" else "≥"
            verdict = "PASS" if t.passed else "FAIL"
            rows.append(
                f"| {case.title} | {t.name} | {_fmt(t.value)} {t.unit} | "
                f"{op} {_fmt(t.limit)} {t.unit} | {verdict} |"
            )
    return "\n".join(rows)


def write_json(
    results: list[CaseResult], size: str, path: Path, load_before: tuple[float, ...]
) -> dict[str, Any]:
    body = {
        "size": size,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": _cpus(),
            # Other work on the machine skews every figure; these say how busy it was.
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "cases": {case.name: case.to_json() for case in results},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # NaN is not JSON; a missing figure is written as null.
    path.write_text(json.dumps(_no_nan(body), indent=2, default=str) + "\n")
    return body


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value
