"""Run the benchmark suite: `python -m benchmarks.run [--size tiny|full] [--out PATH]`.

Prints a Markdown table (every target with PASS/FAIL; a FAIL never fails the run) and
writes the full figures as JSON. Everything runs on 127.0.0.1 against a fake model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from benchmarks.cases import (
    confinement,
    datascale,
    latency,
    load,
    overhead,
    startup,
    throughput,
)
from benchmarks.config import SIZES, Context
from benchmarks.fake import FakeProcess
from benchmarks.report import CaseResult, table, write_json

CASES: dict[str, Callable[[Context], Awaitable[CaseResult]]] = {
    "overhead": overhead.run,
    "throughput": throughput.run,
    "latency": latency.run,
    "load": load.run,
    "datascale": datascale.run,
    "startup": startup.run,
    "confinement": confinement.run,
}
DEFAULT_OUT = Path("benchmarks/results/report.json")


async def run_cases(names: Sequence[str], ctx: Context) -> list[CaseResult]:
    results = []
    for name in names:
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            result = await CASES[name](ctx)
        except Exception as exc:  # one broken case must not hide the others' figures
            traceback.print_exc()
            result = CaseResult(name, name, {}, error=f"{type(exc).__name__}: {exc}")
        result.seconds = round(time.perf_counter() - started, 2)
        print(f"[benchmarks] {name} done in {result.seconds:.1f} s", file=sys.stderr, flush=True)
        results.append(result)
    return results


def run_suite(
    size: str, out: Path, names: Sequence[str] = tuple(CASES), keep: Path | None = None
) -> dict[str, object]:
    """Run the cases at `size`, write the JSON report to `out`, return it."""
    # The CLI must not spend the run on telemetry or update checks.
    os.environ.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    workdir = keep or Path(tempfile.mkdtemp(prefix="claudeserver-bench-"))
    load_before = os.getloadavg()
    try:
        with FakeProcess() as fake:
            ctx = Context(SIZES[size], workdir, fake.env)
            results = asyncio.run(run_cases(names, ctx))
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(results))
    report = write_json(results, size, out, load_before)
    print(f"\nreport: {out}", file=sys.stderr)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report path")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of: {', '.join(CASES)}"
    )
    parser.add_argument("--keep", type=Path, help="keep projects, DBs and server logs here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    run_suite(args.size, args.out, names, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
