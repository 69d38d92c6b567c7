"""Run every benchmark and write REPORT.md, report.svg and report.json (see the package doc)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.report import environment
from benchmarks.report.chart import write_chart
from benchmarks.report.markdown import Report, render
from benchmarks.report.measures import Section
from benchmarks.report.runner import BENCHMARKS, Run, run

CHART = "report.svg"


def parse(argv: list[str] | None) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Run every benchmark of the project and write a report (Markdown + chart).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: proves the command (~1 min)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=environment.ROOT / "docs" / "benchmarks",
        help="where REPORT.md, report.svg and report.json go (default docs/benchmarks)",
    )
    parser.add_argument("--only", help=f"comma-separated subset, in this order: {', '.join(names)}")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="run nothing: write REPORT.md and the chart again from this report.json (after a "
        "change to how the report reads or shows the figures)",
    )
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar='NAME="ARGS"',
        help="more arguments for one benchmark, after the report's (the last one wins), "
        'e.g. --args exchange="--backlog 20000"',
    )
    args = parser.parse_args(argv)
    chosen = names if args.only is None else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in chosen if n not in names]
    extra: dict[str, tuple[str, ...]] = {}
    for item in args.args:
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            parser.error(f"--args {item!r}: expected NAME=ARGS with NAME one of {names}")
        extra[name] = extra.get(name, ()) + tuple(shlex.split(value))
    if unknown or not chosen:
        parser.error(f"--only: unknown {unknown}; choose from {names}")
    args.chosen = chosen
    args.extra = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:  # before the benchmarks, not after twenty minutes of them
        import matplotlib  # noqa: F401
    except ImportError:
        print("the chart needs matplotlib: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 2
    report = _reread(args.from_json) if args.from_json else _measure(args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    title = (
        f"{'Quick run, ' if report.quick else ''}{report.started:%Y-%m-%d} · commit "
        f"{report.versions['git']['commit'][:10]} · {report.machine['cpu']}, "
        f"{report.machine['cores']} cores · load "
        f"{report.load_at_start[0]:.1f} → {report.load_at_end[0]:.1f}"
    )
    shown = write_chart(list(report.sections.values()), args.out / CHART, title=title)
    report = dataclasses.replace(report, chart=CHART if shown else None)
    (args.out / "REPORT.md").write_text(render(report))
    if not args.from_json:
        (args.out / "report.json").write_text(json.dumps(_record(report), indent=2) + "\n")
    failed = [r.benchmark for r in report.runs if r.failed or r.benchmark in report.unreadable]
    print(f"wrote {args.out / 'REPORT.md'}, {args.out / CHART} and {args.out / 'report.json'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _measure(args: argparse.Namespace, argv: list[str] | None) -> Report:
    started = environment.now()
    clock = time.perf_counter()
    load_at_start = environment.load_average()
    machine = environment.machine()
    versions = environment.versions()
    runs: list[Run] = []
    for benchmark in BENCHMARKS:
        if benchmark.name not in args.chosen:
            continue
        print(f"== {benchmark.name}", flush=True)
        runs.append(run(benchmark, quick=args.quick, extra=args.extra.get(benchmark.name, ())))
    sections, unreadable = _summarise(runs)
    return Report(
        started=started,
        seconds=time.perf_counter() - clock,
        quick=args.quick,
        command=[".venv/bin/python", "-m", "benchmarks.report", *(argv or sys.argv[1:])],
        machine=machine,
        versions=versions,
        load_at_start=load_at_start,
        load_at_end=environment.load_average(),
        runs=runs,
        sections=sections,
        unreadable=unreadable,
        chart=None,
    )


def _summarise(runs: list[Run]) -> tuple[dict[str, Section], dict[str, str]]:
    summarise = {b.name: b.summarise for b in BENCHMARKS}
    sections: dict[str, Section] = {}
    unreadable: dict[str, str] = {}
    for done in runs:
        if done.data is not None and not done.failed:
            try:
                sections[done.benchmark] = summarise[done.benchmark](done.data)
            except (KeyError, TypeError, ValueError) as exc:
                # A benchmark whose output changed shape must not cost the others' results.
                unreadable[done.benchmark] = f"{type(exc).__name__}: {exc}"
    return sections, unreadable


def _reread(path: Path) -> Report:
    """The report a run wrote to report.json, summarised again by the current code."""
    record = json.loads(path.read_text())
    runs = [
        Run(
            benchmark=item["name"],
            command=item["command"],
            load_at_start=tuple(item["load_average_at_start"]),
            load_at_end=tuple(item["load_average_at_end"]),
            seconds=item["seconds"],
            returncode=item["returncode"],
            data=item["results"],
            tail=[],
        )
        for item in record["benchmarks"]
    ]
    sections, unreadable = _summarise(runs)
    return Report(
        started=datetime.fromisoformat(record["started"]),
        seconds=record["seconds"],
        quick=record["quick"],
        command=record.get("command", [".venv/bin/python", "-m", "benchmarks.report"]),
        machine=record["machine"],
        versions=record["versions"],
        load_at_start=tuple(record["load_average_at_start"]),
        load_at_end=tuple(record["load_average_at_end"]),
        runs=runs,
        sections=sections,
        unreadable=unreadable,
        chart=None,
    )


def _record(report: Report) -> dict[str, Any]:
    """Everything the run measured, for whoever wants the numbers rather than the prose."""
    return {
        "started": report.started.isoformat(),
        "seconds": report.seconds,
        "quick": report.quick,
        "command": report.command,
        "machine": report.machine,
        "versions": report.versions,
        "load_average_at_start": report.load_at_start,
        "load_average_at_end": report.load_at_end,
        "benchmarks": [
            {
                "name": r.benchmark,
                "command": r.command,
                "seconds": r.seconds,
                "returncode": r.returncode,
                "load_average_at_start": r.load_at_start,
                "load_average_at_end": r.load_at_end,
                "results": r.data,
            }
            for r in report.runs
        ],
    }


if __name__ == "__main__":
    raise SystemExit(main())
