"""What does validating a certificate cost next to lxml's own parse + XSD validation?

For certificates of ~5 KB, ~40 KB and ~400 KB built by ``tests/core/factories.py``, measures in
the same run and interleaved round by round (so load from other processes hits all alike):

- ``raw lxml``: ``etree.fromstring`` with the hardened parser options, then the hub profile's
  ``XMLSchema.validate``: the floor any validator of these documents pays;
- ``validator``: ``Validator.validate(bytes)``, all three areas (Schema, MandatoryElements,
  Mapping), as the hub runs it;
- ``full path``: the same with ``fast_path=False`` (hub XSD and the rules' walk on every
  document), which is what a certificate with findings costs;
- ``with a warning``: the validator on the same certificate carrying one WARNING (an unknown
  package type), which takes the full path by design.

Throughput is documents per CPU-second of this process (``time.process_time``; ``--clock wall``
for wall time), the median over rounds; the spread is the range over rounds. The ratio is
raw-lxml time / validator time per round, median [min–max]: 1.0 means validating costs no more
than parsing and schema-checking. The issue's acceptance goal is a ratio of at least 0.7 on the
typical certificate.

    .venv/bin/python -m benchmarks.validation [--rounds 25] [--json results.json] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import cpu_model
from ephyto_core._codelists import default_code_lists
from ephyto_core._safexml import _new_parser
from ephyto_core._schemas import default_schema_set
from ephyto_core._validation import Validator
from ephyto_core.certificate import build_certificate_xml
from tests.core.factories import make_large, make_small, make_typical

GOAL = 0.7
#: Several different certificates per size, so one document's quirks do not decide the result.
SEEDS = (0, 1, 2, 3)
SIZES = {
    "small (~5 KB)": make_small,
    "typical (~40 KB)": make_typical,
    "large (~400 KB)": make_large,
}
#: Each timed batch runs this long at least, so timer resolution and call overhead vanish.
BATCH_SECONDS = 0.02


@dataclass(frozen=True)
class Row:
    size: str
    bytes: int
    #: variant → documents per second, one value per round
    rates: dict[str, list[float]]
    ratios: list[float]


def _with_warning(xml: bytes) -> bytes:
    """The same certificate with one WARNING: its first package type is not in the list."""
    return xml.replace(b"<ram:TypeCode>PX</ram:TypeCode>", b"<ram:TypeCode>QQ</ram:TypeCode>", 1)


def _variants(
    documents: list[bytes], fast: Validator, full: Validator
) -> dict[str, Callable[[], object]]:
    parser = _new_parser()
    schema = default_schema_set().certificate
    warned = [_with_warning(d) for d in documents]

    def raw() -> None:
        for document in documents:
            schema.validate(etree.fromstring(document, parser))

    def validator() -> None:
        for document in documents:
            fast.validate(document)

    def full_path() -> None:
        for document in documents:
            full.validate(document)

    def with_a_warning() -> None:
        for document in warned:
            fast.validate(document)

    return {
        "raw lxml": raw,
        "validator": validator,
        "full path": full_path,
        "with a warning": with_a_warning,
    }


def _check_documents(documents: list[bytes], fast: Validator) -> None:
    """The benchmark measures clean certificates, and warned ones that really are warned."""
    for document in documents:
        found = fast.validate(document)
        if found:
            raise SystemExit(f"benchmark certificate is not clean: {found[0]}")
        warned = fast.validate(_with_warning(document))
        if [r.level.value for r in warned] != ["WARNING"]:
            raise SystemExit(f"expected exactly one WARNING, got {warned}")


def measure(
    size: str,
    documents: list[bytes],
    fast: Validator,
    full: Validator,
    rounds: int,
    clock: Callable[[], float],
) -> Row:
    variants = _variants(documents, fast, full)
    for run in variants.values():  # warm-up: compiled schemas, code tables, caches
        run()
    start = clock()
    variants["raw lxml"]()
    one = max(clock() - start, 1e-6)
    repeat = max(1, int(BATCH_SECONDS / one))
    rates: dict[str, list[float]] = {name: [] for name in variants}
    ratios: list[float] = []
    for _ in range(rounds):
        seconds: dict[str, float] = {}
        for name, run in variants.items():
            start = clock()
            for _ in range(repeat):
                run()
            seconds[name] = clock() - start
            rates[name].append(repeat * len(documents) / seconds[name])
        ratios.append(seconds["raw lxml"] / seconds["validator"])
    average = sum(len(d) for d in documents) // len(documents)
    return Row(size=size, bytes=average, rates=rates, ratios=ratios)


def machine() -> dict[str, str]:
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "load average (1 min, at start)": f"{os.getloadavg()[0]:.2f}",
        "platform": platform.platform(),
    }


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def markdown(rows: list[Row], info: dict[str, str], rounds: int, clock: str) -> str:
    lines = [
        f"Validation throughput, documents per {clock} second: median (min–max) of {rounds} "
        f"interleaved rounds, {len(SEEDS)} certificates per size.",
        "",
        "| certificate | bytes | raw lxml parse+XSD | validator | ratio (goal ≥ 0.7) "
        "| full path | with a warning |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        ratio = f"{statistics.median(row.ratios):.2f} [{min(row.ratios):.2f}–{max(row.ratios):.2f}]"
        lines.append(
            f"| {row.size} | {row.bytes:,} | {_spread(row.rates['raw lxml'])} "
            f"| {_spread(row.rates['validator'])} | {ratio} | {_spread(row.rates['full path'])} "
            f"| {_spread(row.rates['with a warning'])} |"
        )
    lines += ["", "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds (default 25)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if the typical ratio is below {GOAL}"
    )
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    info = machine()
    code_lists = default_code_lists()
    fast = Validator(schemas=default_schema_set(), code_lists=code_lists)
    full = Validator(schemas=default_schema_set(), code_lists=code_lists, fast_path=False)
    rows = []
    for size, make in SIZES.items():
        documents = [build_certificate_xml(make(seed=seed)) for seed in SEEDS]
        _check_documents(documents, fast)
        rows.append(measure(size, documents, fast, full, args.rounds, clock))
    print(markdown(rows, info, args.rounds, "CPU" if args.clock == "cpu" else "wall-clock"))
    typical = statistics.median(rows[1].ratios)
    verdict = "met" if typical >= GOAL else "NOT met"
    print(f"\nGoal (typical ratio ≥ {GOAL}): {verdict} ({typical:.2f}).")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "clock": args.clock,
                    "rounds": args.rounds,
                    "certificates_per_size": len(SEEDS),
                    "goal": GOAL,
                    "rows": [
                        {
                            "certificate": row.size,
                            "bytes": row.bytes,
                            "docs_per_second": {
                                name: {
                                    "median": statistics.median(values),
                                    "min": min(values),
                                    "max": max(values),
                                }
                                for name, values in row.rates.items()
                            },
                            "ratio": {
                                "median": statistics.median(row.ratios),
                                "min": min(row.ratios),
                                "max": max(row.ratios),
                            },
                        }
                        for row in rows
                    ],
                },
                indent=2,
            )
        )
    return 1 if args.check and typical < GOAL else 0


if __name__ == "__main__":
    raise SystemExit(main())
