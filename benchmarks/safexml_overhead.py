"""What does the safe parser cost on top of lxml itself?

Each row pairs one of our entry points with the least a caller could do without it, using an
lxml parser hardened with the same options: ``parse_untrusted(bytes)`` against
``fromstring(bytes)``; ``parse_content`` on text against ``fromstring(text.encode())`` (lxml
refuses a ``str`` with an encoding declaration, so the encode is unavoidable); on base64 against
``fromstring(b64decode(...))``; and the XPath pass after parsing (child nodes and attributes
per element, which the default limits check from 64 KiB, plus an opt-in depth of 128) on every
size against ``fromstring``: the ~400 KB row of ``parse_untrusted(bytes)`` already pays it.
Certificates of ~5 KB, ~40 KB and ~400 KB come from ``ephyto_core.certificate``. Rounds are
interleaved and each overhead is the median of per-round ratios, so load from other processes
hits both sides alike; time is this process's CPU time, so being descheduled does not count.

    .venv/bin/python -m benchmarks.safexml_overhead [--rounds 40] [--json results.json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ephyto_core._safexml import XmlLimits, _new_parser, parse_content, parse_untrusted
from ephyto_core.certificate import build_certificate_xml
from tests.core.factories import make_large, make_small, make_typical

# The extra pass on every document (the defaults run it from 64 KiB), with a depth below
# libxml2's 256 as well, priced separately.
STRICT = XmlLimits(max_depth=128, per_element_checks_from_bytes=0)


def pairs(doc: bytes) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """Row name -> (ours, the bare lxml equivalent)."""
    hardened = _new_parser()  # the options parse_untrusted uses
    text = doc.decode("utf-8")
    b64 = base64.encodebytes(doc).decode("ascii")  # 76-character lines, as MIME senders wrap
    bare_bytes = lambda: etree.fromstring(doc, hardened)  # noqa: E731
    return {
        # The control: what the same call measures against itself is the noise floor.
        "control: bare lxml against itself": (bare_bytes, bare_bytes),
        "parse_untrusted(bytes)": (lambda: parse_untrusted(doc), bare_bytes),
        "parse_content(text)": (
            lambda: parse_content(text),
            lambda: etree.fromstring(text.encode("utf-8"), hardened),
        ),
        "parse_content(base64)": (
            lambda: parse_content(b64),
            lambda: etree.fromstring(base64.b64decode(b64), hardened),
        ),
        "parse_untrusted, every check (depth 128)": (
            lambda: parse_untrusted(doc, limits=STRICT),
            bare_bytes,
        ),
    }


@dataclass(frozen=True)
class Row:
    bare_us: float
    ours_us: float
    overhead: float  # median of the per-round ratios, minus one
    spread: tuple[float, float]  # their interquartile range


def measure(doc: bytes, rounds: int) -> dict[str, Row]:
    rows = pairs(doc)
    number = max(1, int(0.01 / _one_call(rows["parse_untrusted(bytes)"][1])))

    def sample(func: Callable[[], object]) -> float:
        return timeit.timeit(func, timer=time.process_time, number=number) / number

    results = {}
    for name, (ours, bare) in rows.items():
        ours_times: list[float] = []
        bare_times: list[float] = []
        for round_ in range(rounds):
            if round_ % 2:  # alternate which goes first, so order effects cancel
                ours_times.append(sample(ours))
                bare_times.append(sample(bare))
            else:
                bare_times.append(sample(bare))
                ours_times.append(sample(ours))
        ratios = [o / b - 1 for o, b in zip(ours_times, bare_times, strict=True)]
        low, _, high = statistics.quantiles(ratios, n=4)
        results[name] = Row(
            bare_us=statistics.median(bare_times) * 1e6,
            ours_us=statistics.median(ours_times) * 1e6,
            overhead=statistics.median(ratios),
            spread=(low, high),
        )
    return results


def _one_call(func: Callable[[], object]) -> float:
    func()
    return min(timeit.repeat(func, number=20, repeat=3)) / 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    sizes: list[dict[str, object]] = []
    load = os.getloadavg()[0]
    print(
        f"python {platform.python_version()}, lxml {etree.__version__}, libxml2 "
        f"{'.'.join(map(str, etree.LIBXML_VERSION))}, {os.cpu_count()} CPUs, "
        f"load average {load:.2f}, {args.rounds} interleaved rounds"
    )
    for label, make in (("~5 KB", make_small), ("~40 KB", make_typical), ("~400 KB", make_large)):
        doc = build_certificate_xml(make())
        print(f"\n{label} certificate: {len(doc):,} bytes")
        print(f"  {'':38s} {'bare lxml':>10s} {'ours':>10s} {'overhead':>9s}  {'IQR':>17s}")
        measured = measure(doc, args.rounds)
        sizes.append({"certificate": label, "bytes": len(doc), "rows": _as_json(measured)})
        for name, row in measured.items():
            low, high = row.spread
            print(
                f"  {name:38s} {row.bare_us:8.1f}µs {row.ours_us:8.1f}µs {row.overhead:+9.1%}"
                f"  [{low:+6.1%}, {high:+6.1%}]"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": {
                        "python": platform.python_version(),
                        "lxml": etree.__version__,
                        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
                        "cores": os.cpu_count(),
                        "load_average_at_start": load,
                    },
                    "clock": "cpu",
                    "rounds": args.rounds,
                    "sizes": sizes,
                },
                indent=2,
            )
            + "\n"
        )


def _as_json(rows: dict[str, Row]) -> dict[str, dict[str, float]]:
    """Per row: medians in µs, the overhead as a fraction (0.03 = +3 %) and its IQR."""
    return {
        name: {
            "bare_us": row.bare_us,
            "ours_us": row.ours_us,
            "overhead": row.overhead,
            "overhead_q1": row.spread[0],
            "overhead_q3": row.spread[1],
        }
        for name, row in rows.items()
    }


if __name__ == "__main__":
    main()
