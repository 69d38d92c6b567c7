"""The project's benchmarks, their full and quick settings, and running one as its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import measures
from benchmarks.report.environment import ROOT, load_average
from benchmarks.report.measures import Section


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    summarise: Callable[[dict[str, Any]], Section]
    #: arguments of a full run (beyond the benchmark's own defaults) and of a quick one
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


BENCHMARKS = (
    Benchmark("validation", "benchmarks.validation", measures.validation, quick=("--rounds", "3")),
    Benchmark(
        "safexml_overhead",
        "benchmarks.safexml_overhead",
        measures.safexml_overhead,
        quick=("--rounds", "4"),
    ),
    Benchmark(
        "signing",
        "benchmarks.signing",
        measures.signing,
        quick=("--rounds", "3", "--seconds", "0.05"),
    ),
    Benchmark(
        "gens_pages_sqlite",
        "benchmarks.gens_pages",
        measures.gens_pages,
        full=("--database", "sqlite"),
        quick=("--database", "sqlite", "--certificates", "20", "--rounds", "3", "--requests", "10"),
    ),
    Benchmark(
        "gens_pages_postgres",
        "benchmarks.gens_pages",
        measures.gens_pages,
        full=("--database", "postgres"),
        quick=(
            *("--database", "postgres", "--certificates", "20"),
            *("--rounds", "3", "--requests", "10"),
        ),
    ),
    Benchmark(
        "exchange",
        "benchmarks.exchange",
        measures.exchange,
        # The offered load stays below what a loaded 2-core machine serves (~5-30 /s), so the
        # quick run proves the phases without waiting out the saturated phases' 30 s grace.
        quick=(
            *("--envelopes", "40", "--concurrency", "8", "--rate", "4", "--rate-seconds", "3"),
            *("--backlog", "200", "--wait-seconds", "1", "--reference-messages", "300"),
            *("--drain-timeout", "60", "--floor-count", "200"),
        ),
    ),
)


@dataclass(frozen=True)
class Run:
    benchmark: str
    command: list[str]
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]
    seconds: float
    returncode: int
    #: what the benchmark wrote with --json; None when it failed
    data: dict[str, Any] | None
    #: the last lines it printed, to say why it failed
    tail: list[str]

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or self.data is None


def run(benchmark: Benchmark, *, quick: bool, extra: tuple[str, ...] = ()) -> Run:
    """Run one benchmark to its end, echoing its output line by line (prefixed with its name)."""
    with tempfile.TemporaryDirectory(prefix="ephyto-report-") as tmp:
        output = Path(tmp) / "result.json"
        arguments = benchmark.quick if quick else benchmark.full
        command = [sys.executable, "-m", benchmark.module, *arguments, *extra]
        load_at_start = load_average()
        started = time.perf_counter()
        tail: deque[str] = deque(maxlen=20)
        with subprocess.Popen(
            [*command, "--json", str(output)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                print(f"[{benchmark.name}] {line}", end="", flush=True)
                tail.append(line.rstrip("\n"))
        seconds = time.perf_counter() - started
        data = None
        if process.returncode == 0 and output.exists():
            data = json.loads(output.read_text())
        return Run(
            benchmark=benchmark.name,
            command=["python", "-m", benchmark.module, *arguments, *extra],
            load_at_start=load_at_start,
            load_at_end=load_average(),
            seconds=seconds,
            returncode=process.returncode,
            data=data,
            tail=list(tail),
        )
