"""The benchmark report: every benchmark of the project in one run, written as Markdown and a chart.

    .venv/bin/python -m benchmarks.report [--quick] [--out docs/benchmarks] [--only NAME,...]
        [--args NAME="--flag value ..."]

Each benchmark runs as its own process (`python -m benchmarks.<module> ... --json PATH`), one
after the other, so none shares an interpreter, a heap or a cache with another, and a benchmark
that fails is reported as failed without stopping the others. The report (`REPORT.md`), the
chart (`report.svg`: each measure as a ratio to its raw reference, on a log scale, with the goal
where one exists) and every number the benchmarks wrote (`report.json`) go to `--out`.
"""
