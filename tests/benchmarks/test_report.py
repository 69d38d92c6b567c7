"""`python -m benchmarks.report --quick` runs every benchmark for real and writes a report whose
tables, machine and version facts and chart are all there and well formed."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
#: Each benchmark's section and how many measure rows its table has at least.
SECTIONS = {
    "Validation": 9,
    "Hardened XML parsing": 15,
    "Signing": 7,
    "GeNS pages (SQLite)": 5,
    "GeNS pages (PostgreSQL)": 5,
    "Exchange": 5,
}


def sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body row (not the header) of the Markdown tables in `text`."""
    lines = text.splitlines()
    rows = []
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        header_or_rule = line.startswith("|---") or following.startswith("|---")
        if line.startswith("|") and not header_or_rule:
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_quick_report_runs_every_benchmark_and_writes_tables_and_a_chart(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    report = (tmp_path / "REPORT.md").read_text()
    assert report.startswith("# Benchmark report")
    assert "**Quick run**" in report
    found = sections(report)
    for title, rows in SECTIONS.items():
        assert title in found, f"no section {title!r}"
        body = table_rows(found[title])
        assert len(body) >= rows, (title, body)
        for cells in body:
            measure, ours, reference, ratio, goal, verdict = cells
            assert measure and reference and goal, cells
            assert re.search(r"\d", ours), cells  # a measured figure, not a placeholder
            assert ratio == "—" or re.match(r"[\d.,]+(e-?\d+)?×", ratio), cells
            assert verdict in ("met", "**missed**", "—") or verdict.startswith("not judged")

    machine = dict(row[:2] for row in table_rows(found["Machine"]))
    assert machine["CPU"] and int(machine["cores"]) >= 1 and machine["RAM"].endswith("GiB")
    for moment in ("start", "end"):
        load = machine[f"load average (1/5/15 min) at {moment}"]
        assert re.fullmatch(r"[\d.]+ / [\d.]+ / [\d.]+", load)
    versions = dict(row[:2] for row in table_rows(found["Versions"]))
    assert re.fullmatch(r"3\.\d+\.\d+", versions["Python"])
    assert re.fullmatch(r"[\d.]+ / [\d.]+", versions["lxml / libxml2"])
    assert re.match(r"\d+\.\d+", versions["PostgreSQL (server)"])
    assert re.match(r"\d+\.\d+\.\d+", versions["RabbitMQ"])
    assert re.match(r"`[0-9a-f]{40}`", versions["git commit"])
    assert "signxml" in versions["libraries"] and "sqlalchemy" in versions["libraries"]

    goals = {row[1]: row for row in table_rows(found["Goals"])}
    assert goals["validator, typical (~40 KB)"][4] in ("met", "**missed**")
    # A quick run is not judged by goals set for full-size runs.
    [latency] = [row for name, row in goals.items() if name.startswith("submit latency")]
    assert latency[4].startswith("not judged")

    # The chart parses as SVG and labels a point for each benchmark.
    chart = etree.parse(str(tmp_path / "report.svg")).getroot()
    assert chart.tag == f"{SVG}svg"
    text = " ".join(t.text or "" for t in chart.iter(f"{SVG}text"))
    for title in SECTIONS:
        assert f"{title}:" in text, title
    assert "![" in report and "(report.svg)" in report

    record = json.loads((tmp_path / "report.json").read_text())
    assert [b["returncode"] for b in record["benchmarks"]] == [0] * len(SECTIONS)

    # The exchange's CPU figures get their own row: where the throughput went.
    cpu_rows = [r for r in table_rows(found["Exchange"]) if r[0].startswith("server CPU")]
    assert len(cpu_rows) == 1 and re.search(r"\d+ /s ceiling", cpu_rows[0][2]), cpu_rows

    # Written again from its JSON, without running anything, the report is the same.
    again = tmp_path / "again"
    source = str(tmp_path / "report.json")
    rerun = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", "--from-json", source, "--out", str(again)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    assert (again / "REPORT.md").read_text() == report
    assert not (again / "report.json").exists()
