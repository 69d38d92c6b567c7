"""report.svg: every measure as a ratio to its raw reference, on one log axis.

Absolute figures span six orders of magnitude (documents, pages, signatures, envelopes per
second), so the chart plots what they have in common: our speed ÷ the raw reference's, measured
in the same run. A point at 1× costs no more than the raw part; the line from 1× to the point is
the cost of our code on top. Goals in the same units are marked; colours say met / missed.
"""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.report.measures import MET, MISSED, Measure, Section

COLOURS = {MET: "#2e7d32", MISSED: "#c62828", None: "#4a6fa5"}
GOAL_COLOUR = "#ef6c00"


def chartable(section: Section) -> list[Measure]:
    return [
        m
        for m in section.measures
        if m.chart and m.ratio is not None and math.isfinite(m.ratio) and m.ratio > 0
    ]


def write_chart(sections: list[Section], path: Path, *, title: str) -> int:
    """Draws the chart; returns how many measures it shows."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    # Text stays text (smaller, searchable); fixed ids and no date: the same run, the same file.
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "ephyto-benchmark-report"})
    rows = [(section.title, m) for section in sections for m in chartable(section)]
    if not rows:
        return 0
    figure, axes = plt.subplots(figsize=(11, 1.6 + 0.3 * len(rows)))
    values: list[float] = [1.0]
    groups: list[int] = []
    for index, (group, measure) in enumerate(rows):
        y = len(rows) - 1 - index
        ratio = measure.ratio
        assert ratio is not None
        # Coloured by verdict only where the goal is in these units (a page-size goal met says
        # nothing about a page's speed).
        judged_here = measure.goal_ratio is not None
        colour = COLOURS.get(measure.verdict if judged_here else None, COLOURS[None])
        axes.plot([1.0, ratio], [y, y], color=colour, linewidth=2.5, alpha=0.45)
        if measure.spread is not None:
            low, high = measure.spread
            axes.plot([low, high], [y, y], color=colour, linewidth=1, marker="|", markersize=8)
            values += [low, high]
        axes.plot([ratio], [y], "o", color=colour, markersize=6)
        axes.annotate(
            f"{ratio:.2g}×",
            (ratio, y),
            xytext=(6, 3),
            textcoords="offset points",
            fontsize=7,
            color="#333333",
        )
        if measure.goal_ratio is not None and measure.goal_ratio > 0:
            axes.plot(
                [measure.goal_ratio], [y], marker="D", color=GOAL_COLOUR, markersize=5, zorder=5
            )
            values.append(measure.goal_ratio)
        values.append(ratio)
        if index and rows[index - 1][0] != group:
            groups.append(y)
    for y in groups:
        axes.axhline(y + 0.5, color="#bbbbbb", linewidth=0.6)
    axes.axvline(1.0, color="#222222", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlim(min(values) / 2, max(values) * 2.5)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}×"))
    axes.set_yticks(
        range(len(rows)), [f"{group}: {m.name}" for group, m in reversed(rows)], fontsize=8
    )
    axes.set_xlabel("our speed ÷ raw reference's speed, same run (1× = the raw part's cost)")
    axes.grid(axis="x", which="major", color="#e0e0e0", linewidth=0.6)
    axes.set_title(title, fontsize=9, loc="left")
    axes.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="", color=COLOURS[MET], label="goal met"),
            Line2D([], [], marker="o", linestyle="", color=COLOURS[MISSED], label="goal missed"),
            Line2D([], [], marker="o", linestyle="", color=COLOURS[None], label="no goal (here)"),
            Line2D([], [], marker="D", linestyle="", color=GOAL_COLOUR, label="goal"),
            Line2D([], [], marker="|", color="#555555", label="spread"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        frameon=False,
    )
    figure.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return len(rows)
