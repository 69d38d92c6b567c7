"""``ephyto validate FILE...``: the hub's ValidatePhytoXML on files, for people and for scripts.

Exit status: 0 when no file has a SEVERE finding, 1 when one does, 2 for usage errors (a missing
file, an unknown option). A file that is not XML, or is hostile, is a finding, not a crash.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from ephyto_core._safexml import DEFAULT_LIMITS
from ephyto_core._validation_result import Area, Level, ValidationResult, has_severe

_STDIN = "-"


@dataclass(frozen=True, slots=True)
class FileReport:
    file: str
    results: tuple[ValidationResult, ...]


@click.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of a table.")
@click.option(
    "--content",
    is_flag=True,
    help="Read each file as an envelope Content value (XML text or base64), as the hub does.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add xmlschema's explanation to each Schema finding (slow; for diagnosis).",
)
def validate(files: Sequence[str], as_json: bool, content: bool, explain: bool) -> None:
    """Validate phytosanitary certificates (SPSCertificate XML) as the hub does.

    Reports Schema, MandatoryElements and Mapping findings for each FILE ('-' reads standard
    input). Exits with 1 if any finding is SEVERE (the hub would refuse the certificate).
    """
    # Imported here so `ephyto --help` does not compile schemas or load code lists.
    from ephyto_core._validation import default_validator

    validator = default_validator()
    reports: list[FileReport] = []
    for name in files:
        data = _read(name)
        if isinstance(data, ValidationResult):
            reports.append(FileReport(name, (data,)))
            continue
        report = validator.report_content(data) if content else validator.report(data)
        results = report.results
        if explain and report.root is not None and any(r.area is Area.SCHEMA for r in results):
            from ephyto_cli._explain import explain_schema_findings

            results = explain_schema_findings(report.root, results)
        reports.append(FileReport(name, results))
    click.echo(_as_json(reports) if as_json else _as_table(reports))
    if any(has_severe(r.results) for r in reports):
        sys.exit(1)


def _read(name: str) -> bytes | ValidationResult:
    """The file's bytes, or a SEVERE finding when it is too large to be a certificate."""
    if name == _STDIN:
        data = sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
    else:
        path = Path(name)
        size = path.stat().st_size
        if size > DEFAULT_LIMITS.max_bytes:
            # Refused before reading: the hub would not read it either.
            return _too_large(size)
        data = path.read_bytes()
    if len(data) > DEFAULT_LIMITS.max_bytes:
        return _too_large(len(data))
    return data


def _too_large(size: int) -> ValidationResult:
    return ValidationResult(
        Area.SCHEMA,
        Level.SEVERE,
        "ePhytoXML",
        f"the document is {size:,} bytes, larger than the {DEFAULT_LIMITS.max_bytes:,} allowed",
    )


def _as_json(reports: list[FileReport]) -> str:
    return json.dumps(
        [
            {
                "file": report.file,
                "results": [
                    {"area": r.area.value, "level": r.level.value, "field": r.field, "msg": r.msg}
                    for r in report.results
                ],
            }
            for report in reports
        ],
        indent=2,
        ensure_ascii=False,
    )


def _as_table(reports: list[FileReport]) -> str:
    """Per file: a summary line, then one row per finding (level, area, field) with the
    message wrapped beneath it."""
    level_width = len(Level.WARNING.value)
    area_width = len(Area.MANDATORY.value)
    indent = " " * (2 + level_width + 2)
    width = max(shutil.get_terminal_size((100, 24)).columns, 60)
    lines: list[str] = []
    for report in reports:
        if lines:
            lines.append("")
        lines.append(_summary(report))
        if not report.results:
            continue
        lines.append(f"  {'LEVEL':<{level_width}}  {'AREA':<{area_width}}  FIELD")
        for r in report.results:
            lines.append(
                f"  {r.level.value:<{level_width}}  {r.area.value:<{area_width}}  {r.field}"
            )
            lines.extend(
                textwrap.wrap(
                    r.msg,
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines)


def _summary(report: FileReport) -> str:
    if not report.results:
        return f"{report.file}: valid, no findings"
    counts = {
        level: sum(1 for r in report.results if r.level is level)
        for level in (Level.SEVERE, Level.WARNING, Level.INFO)
    }
    found = ", ".join(f"{n} {level.value}" for level, n in counts.items() if n)
    verdict = "refused (SEVERE)" if counts[Level.SEVERE] else "accepted"
    return f"{report.file}: {verdict}: {found}"
