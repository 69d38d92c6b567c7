"""The table of hostile cases and outcomes printed at the end of a run."""

from collections.abc import Iterable

from tests.hub.hostile.harness import CaseRecord

_COLUMNS = ("case", "carrier", "expected", "observed", "ms", "cpu ms", "py MB", "rss MB", "rows")


def outcome_table(records: Iterable[CaseRecord]) -> list[str]:
    rows = [
        (
            f"{r.suite}/{r.case}",
            r.carrier,
            r.expected,
            r.observed,
            f"{r.seconds * 1000:.0f}",
            f"{r.cpu_seconds * 1000:.0f}",
            f"{r.python_peak / 2**20:.1f}",
            "-" if r.resident_growth is None else f"{r.resident_growth / 2**20:.1f}",
            r.rows,
        )
        for r in records
    ]
    widths = [
        min(max([len(c), *(len(row[i]) for row in rows)]), 80) for i, c in enumerate(_COLUMNS)
    ]
    lines = [_line(_COLUMNS, widths), _line(tuple("-" * w for w in widths), widths)]
    lines += [_line(row, widths) for row in rows]
    kinds: dict[str, int] = {}
    for r in records:
        kind = r.observed.split(" ", 2)[1] if " " in r.observed else r.observed
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    costliest = max(records, key=lambda r: r.cpu_seconds, default=None)
    lines.append(f"outcomes: {summary}")
    if costliest is not None:
        lines.append(
            f"costliest: {costliest.suite}/{costliest.case} via {costliest.carrier}, "
            f"{costliest.cpu_seconds * 1000:.0f} ms of CPU"
        )
    return lines


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(
        _clip(cell, width).ljust(width) for cell, width in zip(cells, widths, strict=True)
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
