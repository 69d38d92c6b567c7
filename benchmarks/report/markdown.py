"""REPORT.md: verdicts first, then the machine and versions, then each benchmark's table."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from benchmarks.report.measures import MET, MISSED, NO_GOAL, Measure, Section, judged, number
from benchmarks.report.runner import Run

TABLE_HEADER = (
    "| measure | ours | raw reference (same run) | ours ÷ raw [spread] | goal | verdict |",
    "|---|---|---|---|---|---|",
)


@dataclass(frozen=True)
class Report:
    started: datetime
    seconds: float
    quick: bool
    command: list[str]
    machine: dict[str, Any]
    versions: dict[str, Any]
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]
    runs: list[Run]
    #: by benchmark name; absent for a benchmark that failed
    sections: dict[str, Section]
    chart: str | None
    #: benchmark name -> why its results could not be read (it ran, its JSON changed shape)
    unreadable: dict[str, str] = field(default_factory=dict)


def render(report: Report) -> str:
    parts = [_head(report), _verdicts(report), _machine(report), _versions(report), _reading()]
    parts += [_benchmark(report, run) for run in report.runs]
    return "\n\n".join(part for part in parts if part) + "\n"


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _head(report: Report) -> str:
    git = report.versions["git"]
    dirty = git["uncommitted_files"]
    state = f", {dirty} file(s) changed but not committed" if dirty else ""
    lines = ["# Benchmark report", ""]
    if report.quick:
        lines += [
            "> **Quick run** (`--quick`, small sizes): it proves the command runs every "
            "benchmark end to end. Its figures are not for comparison, and goals that apply "
            "only at full size are not judged.",
            "",
        ]
    lines += [
        f"Run on {report.started:%Y-%m-%d %H:%M} UTC at commit `{git['commit'][:12]}`{state}, "
        f"with `{shlex.join(report.command)}`; it took {_duration(report.seconds)}. Load "
        f"average (1/5/15 min) {_load(report.load_at_start)} at the start, "
        f"{_load(report.load_at_end)} at the end, on {report.machine['cores']} cores.",
    ]
    if report.chart:
        lines += [
            "",
            f"![Each measure as a ratio to its raw reference, log scale]({report.chart})",
        ]
    return "\n".join(lines)


def _verdicts(report: Report) -> str:
    rows = [
        (section.title, measure)
        for section in report.sections.values()
        for measure in section.measures
        if measure.goal != NO_GOAL
    ]
    failed = [r.benchmark for r in report.runs if r.failed or r.benchmark in report.unreadable]
    verdicts = [m.verdict for _, m in rows]
    lines = [
        "## Goals",
        "",
        f"{verdicts.count(MET)} met, {verdicts.count(MISSED)} missed, "
        f"{sum(not judged(v) for v in verdicts)} not judged"
        + (f"; benchmarks that failed: {', '.join(failed)}." if failed else "."),
        "",
        "| benchmark | measure | goal | ours | verdict |",
        "|---|---|---|---|---|",
    ]
    for title, measure in rows:
        lines.append(
            f"| {title} | {_cell(measure.name)} | {_cell(measure.goal)} | {_cell(measure.ours)} "
            f"| {_verdict(measure.verdict)} |"
        )
    return "\n".join(lines)


def _verdict(verdict: str) -> str:
    return f"**{verdict}**" if verdict == MISSED else verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _machine(report: Report) -> str:
    machine = report.machine
    ram = machine["ram_bytes"]
    return "\n".join(
        [
            "## Machine",
            "",
            "| | |",
            "|---|---|",
            f"| CPU | {machine['cpu']} |",
            f"| cores | {machine['cores']} |",
            f"| RAM | {ram / 2**30:.1f} GiB |" if ram else "| RAM | unknown |",
            f"| OS | {machine['os']} |",
            f"| load average (1/5/15 min) at start | {_load(report.load_at_start)} |",
            f"| load average (1/5/15 min) at end | {_load(report.load_at_end)} |",
        ]
    )


def _versions(report: Report) -> str:
    versions = report.versions
    git = versions["git"]
    libraries = ", ".join(f"{name} {v}" for name, v in versions["libraries"].items())
    return "\n".join(
        [
            "## Versions",
            "",
            "| | |",
            "|---|---|",
            f"| Python | {versions['python']} |",
            f"| lxml / libxml2 | {versions['libraries'].get('lxml')} / {versions['libxml2']} |",
            f"| PostgreSQL (server) | {versions['postgresql']} |",
            f"| RabbitMQ | {versions['rabbitmq']} |",
            f"| git commit | `{git['commit']}` {_cell(git['subject'])} |",
            f"| uncommitted files | {git['uncommitted_files']} |",
            f"| libraries | {libraries} |",
        ]
    )


def _reading() -> str:
    return (
        "## How to read the tables\n\n"
        "*ours ÷ raw* is our speed divided by the raw reference's speed, measured in the same "
        "run (so: the reference's time ÷ ours): 1× means our code costs no more than the raw "
        "part it is built on, 0.1× that it costs ten times as much. Figures are medians; the "
        "spread in brackets is the range over rounds (min–max) or the interquartile range "
        "(IQR) of the per-round ratios, as marked. The chart shows the same ratios on a log "
        "scale, with the goal where one is expressed in these units."
    )


def _benchmark(report: Report, run: Run) -> str:
    section = report.sections.get(run.benchmark)
    title = section.title if section else run.benchmark
    settings = f"{section.settings}; " if section and section.settings else ""
    lines = [
        f"## {title}",
        "",
        f"`{shlex.join(run.command)}` — {settings}took {_duration(run.seconds)}; load average "
        f"{_load(run.load_at_start)} at its start, {_load(run.load_at_end)} at its end.",
        "",
    ]
    if section is None and run.benchmark in report.unreadable:
        lines += [
            f"**Its results could not be read** ({report.unreadable[run.benchmark]}); they "
            "are in report.json."
        ]
        return "\n".join(lines)
    if section is None:
        lines += [
            f"**Failed** (exit status {run.returncode}). Its last lines:",
            "",
            "```",
            *run.tail,
            "```",
        ]
        return "\n".join(lines)
    lines += [section.about, "", *TABLE_HEADER]
    lines += [_row(measure) for measure in section.measures]
    if section.notes:
        lines += ["", "Other figures from the same run:", ""]
        lines += [f"- {note}" for note in section.notes]
    return "\n".join(lines)


def _row(measure: Measure) -> str:
    if measure.ratio is None:
        ratio = "—"
    else:
        ratio = f"{number(measure.ratio)}×"
        if measure.spread is not None:
            low, high = measure.spread
            ratio += f" [{number(low)}–{number(high)}, {measure.spread_kind}]"
        elif measure.spread_kind != "min–max":
            ratio += f" ({measure.spread_kind})"
    return (
        f"| {_cell(measure.name)} | {_cell(measure.ours)} | {_cell(measure.reference)} "
        f"| {ratio} | {_cell(measure.goal)} | {_verdict(measure.verdict)} |"
    )
