"""Each benchmark's JSON turned into measures: our figure, its raw reference, the ratio, the goal.

The ratio is always *our speed ÷ the raw reference's speed* in the same run (so reference time ÷
our time): 1 means our code costs no more than the raw part it is built on, 0.1 means ten times
as much. Goals are the project's (README, tests); where a goal applies only at a size the run did
not use, the verdict says so instead of judging a quick run by a full-size goal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

MET: Final = "met"
MISSED: Final = "missed"
NO_GOAL: Final = "—"

#: tests/gens/test_pages.py: every main page under 50 KB, for low-bandwidth users.
PAGE_BUDGET_BYTES: Final = 50 * 1024
#: Validation: our validator at least 0.7× raw lxml parse+XSD on the typical certificate.
VALIDATION_GOAL: Final = 0.7
#: Exchange (README, "Exchange benchmark"): the goals of the issue that asked for it.
EXCHANGE_RATE_GOAL: Final = 500.0
EXCHANGE_BROKER_SHARE_GOAL: Final = 0.2
EXCHANGE_P99_GOAL_MS: Final = 50.0
EXCHANGE_GOAL_OFFERED_PER_S: Final = 200.0
BACKLOG_GOAL_ENVELOPES: Final = 100_000
BACKLOG_GOAL_SECONDS: Final = 120.0
#: "Memory flat while envelopes wait", read here as: no hub or worker process grows by more
#: than a quarter while the backlog waits (the report's reading; the README judged it by eye).
MEMORY_GROWTH_LIMIT: Final = 1.25
#: "Another destination's p99 during the drain at most 2× its p99 without the drain".
DRAIN_P99_FACTOR: Final = 2.0


@dataclass(frozen=True)
class Measure:
    name: str
    ours: str
    reference: str
    #: our speed ÷ the reference's (None: this measure has no raw reference)
    ratio: float | None = None
    spread: tuple[float, float] | None = None
    spread_kind: str = "min–max"
    goal: str = NO_GOAL
    verdict: str = NO_GOAL
    #: the goal in ratio units, drawn on the chart
    goal_ratio: float | None = None
    chart: bool = True


@dataclass(frozen=True)
class Section:
    title: str
    about: str
    settings: str
    measures: list[Measure]
    notes: list[str] = field(default_factory=list)


def judged(verdict: str) -> bool:
    return verdict in (MET, MISSED)


def _verdict(ok: bool) -> str:
    return MET if ok else MISSED


def number(value: float) -> str:
    """Readable at any magnitude: 12,345 / 123 / 12.3 / 1.23 / 0.012."""
    if math.isinf(value):
        return "∞"
    if math.isnan(value):
        return "n/a"
    size = abs(value)
    if size >= 100 or (value == int(value) and size < 1e15):
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.1:
        return f"{value:.2f}"
    return f"{value:.2g}"


def _range(low: float, high: float) -> str:
    return f"{number(low)}–{number(high)}"


def _rate(summary: dict[str, float], unit: str) -> str:
    return f"{number(summary['median'])} {unit} ({_range(summary['min'], summary['max'])})"


def _clock(data: dict[str, Any]) -> str:
    return {"cpu": "CPU", "wall": "wall-clock"}.get(data.get("clock", ""), "?")


def _inverse_spread(q1: float | None, q3: float | None) -> tuple[float, float] | None:
    """Quartiles of our time ÷ reference time, as a spread of the speed ratio."""
    if q1 is None or q3 is None or q1 <= 0 or q3 <= 0:
        return None
    return (1 / q3, 1 / q1)


# ------------------------------------------------------------------------------ validation


def validation(data: dict[str, Any]) -> Section:
    measures = []
    for row in data["rows"]:
        size = row["certificate"]
        rates = row["docs_per_second"]
        raw = rates["raw lxml"]
        ratio = row["ratio"]
        typical = size.startswith("typical")
        goal = f"≥ {VALIDATION_GOAL}×" if typical else NO_GOAL
        measures.append(
            Measure(
                name=f"validator, {size}",
                ours=_rate(rates["validator"], "docs/s"),
                reference=f"{_rate(raw, 'docs/s')} raw lxml parse + XSD",
                ratio=ratio["median"],
                spread=(ratio["min"], ratio["max"]),
                goal=goal,
                verdict=_verdict(ratio["median"] >= VALIDATION_GOAL) if typical else NO_GOAL,
                goal_ratio=VALIDATION_GOAL if typical else None,
            )
        )
        for variant, what in (
            ("full path", "full path (a certificate with findings)"),
            ("with a warning", "certificate with one warning"),
        ):
            measures.append(
                Measure(
                    name=f"{what}, {size}",
                    ours=_rate(rates[variant], "docs/s"),
                    reference=f"{number(raw['median'])} docs/s raw lxml parse + XSD",
                    ratio=rates[variant]["median"] / raw["median"],
                    spread_kind="of medians",
                    chart=typical and variant == "full path",
                )
            )
    return Section(
        title="Validation",
        about=(
            "`Validator.validate` (all three areas, as the hub runs it) against lxml's own "
            "parse + XSD validation of the same certificates, interleaved round by round; "
            f"documents per {_clock(data)} second of the benchmark process; "
            f"{data['certificates_per_size']} certificates per size."
        ),
        settings=f"{data['rounds']} rounds, {_clock(data)} time",
        measures=measures,
    )


# ------------------------------------------------------------------------------ hardened parsing


def safexml_overhead(data: dict[str, Any]) -> Section:
    measures = []
    for size in data["sizes"]:
        label = size["certificate"]
        for name, row in size["rows"].items():
            measures.append(
                Measure(
                    name=f"{name}, {label}",
                    ours=f"{number(row['ours_us'])} µs ({row['overhead']:+.1%})",
                    reference=f"{number(row['bare_us'])} µs bare lxml, same options",
                    ratio=1 / (1 + row["overhead"]),
                    spread=_inverse_spread(1 + row["overhead_q1"], 1 + row["overhead_q3"]),
                    spread_kind="IQR",
                    chart=label == "~40 KB",
                )
            )
    return Section(
        title="Hardened XML parsing",
        about=(
            "Our safe parser's entry points against the least a caller could do without them "
            "(lxml with the same hardened options); per-round ratios, alternating which goes "
            "first; CPU time. The control row measures lxml against itself: its spread is the "
            "noise floor."
        ),
        settings=f"{data['rounds']} rounds, {_clock(data)} time",
        measures=measures,
    )


# ------------------------------------------------------------------------------ signing


def signing(data: dict[str, Any]) -> Section:
    measures = []
    for name, row in data["rows"].items():
        if row["raw_per_s"] is None:
            measures.append(
                Measure(
                    name=name,
                    ours=f"{number(row['ours_per_s'])} /s",
                    reference="— (no raw counterpart)",
                )
            )
            continue
        raw_operation = "sign" if name.startswith("seal") else "verify"
        measures.append(
            Measure(
                name=name,
                ours=f"{number(row['ours_per_s'])} /s",
                reference=f"{number(row['raw_per_s'])} /s raw cryptography {raw_operation}",
                ratio=row["ours_per_s"] / row["raw_per_s"],
                spread=_inverse_spread(row["ratio_q1"], row["ratio_q3"]),
                spread_kind="IQR",
            )
        )
    return Section(
        title="Signing",
        about=(
            "XMLDSig seals and signature checks (signxml, as the hub runs them) against a raw "
            "`cryptography` signature or verification with the same key, in the same "
            "interleaved rounds; CPU time, one core."
        ),
        settings=(
            f"{data['rounds']} rounds, {data['seconds_per_sample']} s of CPU per sample, "
            f"{_clock(data)} time"
        ),
        measures=measures,
    )


# ------------------------------------------------------------------------------ GeNS pages


def gens_pages(data: dict[str, Any]) -> Section:
    database = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(data["database"], "?")
    measures = []
    for page in data["pages"]:
        app, template, bare = (page["variants"][v] for v in ("app", "template", "bare route"))
        versus = page["app_vs"]["bare route"]
        light = page["bytes"] < PAGE_BUDGET_BYTES
        measures.append(
            Measure(
                name=page["page"],
                ours=(
                    f"{_rate(app['pages_per_s'], 'pages/s')}; p50 {number(app['p50_ms'])} / "
                    f"p99 {number(app['p99_ms'])} ms; {page['bytes']:,} bytes"
                ),
                reference=(
                    f"{number(bare['pages_per_s']['median'])} /s bare route, same bytes; "
                    f"{number(template['pages_per_s']['median'])} /s template alone "
                    f"({page['app_vs']['template']['median']:.2f}×)"
                ),
                ratio=versus["median"],
                spread=(versus["min"], versus["max"]),
                goal=f"< {PAGE_BUDGET_BYTES // 1024} KB a page",
                verdict=_verdict(light),
            )
        )
    return Section(
        title=f"GeNS pages ({database})",
        about=(
            f"GET through the whole GeNS app on {database} (the real hub in-process), one at a "
            "time over httpx's in-process ASGI transport, against a bare Starlette route serving "
            "the same bytes over the same transport; the template rendered alone with the "
            "context captured from the app (same bytes checked) shows rendering's share. "
            "Wall time."
        ),
        settings=(
            f"{data['certificates']} certificates in the list, {data['rounds']} rounds of "
            f"{data['requests_per_round']} requests per page and variant"
        ),
        measures=measures,
    )


# ------------------------------------------------------------------------------ exchange


class Reader:
    """Reads a nested JSON document and remembers what was read, so that whatever a benchmark
    reports beyond what the report knows (new keys) is still shown, as "other figures"."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._read: set[tuple[str, ...]] = set()

    def __call__(self, *path: str) -> Any:
        value: Any = self._data
        for key in path:
            value = value[key]
        self._read.add(path)
        return value

    def has(self, *path: str) -> bool:
        value: Any = self._data
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        return True

    def unread(self, *, skip: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
        def walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
            if any(path[: len(p)] == p for p in self._read) or (path and path[0] in skip):
                return
            if isinstance(value, dict):
                for key, inner in value.items():
                    yield from walk(inner, (*path, str(key)))
            else:
                yield path, value

        yield from walk(self._data, ())


def exchange(data: dict[str, Any]) -> Section:
    read = Reader(data)
    broker = float(read("broker_reference_per_s"))
    broker_text = f"{number(broker)} msg/s raw broker round trip"
    measures = [_exchange_throughput(read, broker, broker_text)]
    if read.has("throughput", "cpu_ms_per_envelope") and read.has("machine", "cores"):
        measures.append(_exchange_cpu(read))
    if read.has("floor", "per_envelope_ms") and read.has("floor", "server_measured_ms"):
        measures.append(_exchange_floor(read, broker))
    measures.append(_exchange_latency(read))
    if read.has("backlog"):
        measures += [
            _exchange_memory(read),
            _exchange_drain(read, broker, broker_text),
            _exchange_other_destination(read),
        ]
    notes = [
        f"{' › '.join(path)}: {number(value) if isinstance(value, float) else value}"
        for path, value in read.unread(skip=("machine",))
    ]
    return Section(
        title="Exchange",
        about=(
            "End to end over HTTPS with mutual TLS on PostgreSQL and RabbitMQ (`ephyto hub "
            "serve` ×2 and `ephyto hub worker` as real processes, 41 KB certificates): submit "
            "with validation → persist → route → pull → acknowledge, against the raw broker "
            "round trip of the same bytes (publish with confirms to a quorum queue, consume "
            "with ack) measured in the same run. One run per phase: no rounds, so no spread."
        ),
        settings="",
        measures=measures,
        notes=notes,
    )


def _exchange_throughput(read: Reader, broker: float, broker_text: str) -> Measure:
    rate = float(read("throughput", "envelopes_per_s"))
    share = rate / broker
    return Measure(
        name=f"end-to-end envelopes/s ({read('throughput', 'envelopes'):,} envelopes)",
        ours=(
            f"{number(rate)} /s (submit alone {number(read('throughput', 'submit_only_per_s'))}"
            f" /s; closed-loop p50 {number(read('throughput', 'closed_loop_submit_p50_ms'))} / "
            f"p99 {number(read('throughput', 'closed_loop_submit_p99_ms'))} ms)"
        ),
        reference=broker_text,
        ratio=share,
        goal=f"≥ {EXCHANGE_RATE_GOAL:.0f} /s and ≥ {EXCHANGE_BROKER_SHARE_GOAL}× broker",
        verdict=_verdict(rate >= EXCHANGE_RATE_GOAL and share >= EXCHANGE_BROKER_SHARE_GOAL),
        goal_ratio=max(EXCHANGE_BROKER_SHARE_GOAL, EXCHANGE_RATE_GOAL / broker),
    )


def _exchange_cpu(read: Reader) -> Measure:
    """Where the throughput goes: CPU per envelope of every server process, and the rate the
    machine's cores would allow if nothing else (not even the load generator) ran on them."""
    cpu: dict[str, float] = read("throughput", "cpu_ms_per_envelope")
    cores = int(read("machine", "cores"))
    server = {name: ms for name, ms in cpu.items() if name != "load-generator"}
    total = sum(server.values())
    budget = cores * 1000 / EXCHANGE_RATE_GOAL
    return Measure(
        name="server CPU per envelope (throughput phase)",
        ours=f"{number(total)} ms: "
        + ", ".join(f"{name} {number(ms)}" for name, ms in sorted(server.items())),
        reference=f"{cores} cores ÷ {number(total)} ms = {number(cores * 1000 / total)} /s "
        f"ceiling; the load generator took {number(cpu.get('load-generator', 0.0))} ms more",
        goal=f"≤ {number(budget)} ms (what {EXCHANGE_RATE_GOAL:.0f} /s allows on {cores} cores)",
        verdict=_verdict(total <= budget),
        chart=False,
    )


def _exchange_floor(read: Reader, broker: float) -> Measure:
    """The raw cost of what one envelope needs at least (benchmarks/floor.py), against the CPU
    the goals leave per envelope: where it is above, no hub built of these parts meets them here."""
    floor = read("floor")
    parts: dict[str, dict[str, float]] = floor["parts_ms"]
    times: dict[str, int] = floor["parts_per_envelope"]
    cores = int(floor["cores"])
    total = float(floor["per_envelope_ms"])
    measured = float(floor["measured_with_client_ms"])
    rate_budget = cores * 1000 / EXCHANGE_RATE_GOAL
    share_budget = cores * 1000 / (EXCHANGE_BROKER_SHARE_GOAL * broker)
    described = ", ".join(
        f"{times[name]} × {name.replace('_', ' ')} {number(parts[name]['total'])}" for name in times
    )
    # A floor is not a goal of its own: it says which goals any implementation could meet here.
    if total > rate_budget:
        verdict = (
            f"not judged (a floor): {EXCHANGE_RATE_GOAL:.0f} /s needs less than it, "
            f"{EXCHANGE_BROKER_SHARE_GOAL}× broker "
            + ("too" if total > share_budget else "does not")
        )
    else:
        verdict = "not judged (a floor): both goals leave room above it"
    return Measure(
        name="floor: raw CPU of one envelope's parts (same run)",
        ours=f"{number(total)} ms ({described})",
        reference=f"all processes measured: {number(measured)} ms per envelope "
        "(hubs, worker, PostgreSQL, RabbitMQ, load generator)",
        ratio=total / measured,
        goal=f"budget {number(rate_budget)} ms at {EXCHANGE_RATE_GOAL:.0f} /s, "
        f"{number(share_budget)} ms at {EXCHANGE_BROKER_SHARE_GOAL}× broker ({cores} cores)",
        verdict=verdict,
    )


def _latency_text(latency: dict[str, Any]) -> str:
    return (
        f"p50 {number(latency['p50_ms'])} / p99 {number(latency['p99_ms'])} ms; "
        f"{latency['answered']:,} of {latency['scheduled']:,} answered, "
        f"{number(latency['achieved_per_s'])} /s achieved"
    )


def _exchange_latency(read: Reader) -> Measure:
    latency = read("latency")
    offered = float(latency["offered_per_s"])
    p99 = float(latency["p99_ms"])
    if offered < EXCHANGE_GOAL_OFFERED_PER_S:
        verdict = f"not judged: offered {number(offered)} /s"
    else:
        verdict = _verdict(p99 <= EXCHANGE_P99_GOAL_MS)
    return Measure(
        name=f"submit latency at {number(offered)} /s offered (open loop)",
        ours=_latency_text(latency),
        reference="— (no raw latency reference)",
        goal=f"p99 ≤ {EXCHANGE_P99_GOAL_MS:.0f} ms at {EXCHANGE_GOAL_OFFERED_PER_S:.0f} /s",
        verdict=verdict,
    )


def _exchange_memory(read: Reader) -> Measure:
    before = read("backlog", "rss_before_mib")
    waiting = read("backlog", "rss_peak_while_waiting_mib")
    servers = [name for name in before if name.startswith(("hub", "worker")) and name in waiting]
    ratio = min((before[n] / waiting[n] for n in servers if waiting[n] > 0), default=None)
    return Measure(
        name=f"memory while {read('backlog', 'envelopes'):,} envelopes wait (receiver down)",
        ours=", ".join(f"{n} {number(waiting[n])} MiB" for n in servers),
        reference="RSS before the backlog: "
        + ", ".join(f"{n} {number(before[n])} MiB" for n in servers),
        ratio=ratio,
        goal=f"flat (no hub or worker grows > {MEMORY_GROWTH_LIMIT - 1:.0%})",
        verdict=(_verdict(ratio >= 1 / MEMORY_GROWTH_LIMIT) if ratio is not None else "not judged"),
        goal_ratio=1 / MEMORY_GROWTH_LIMIT,
    )


def _exchange_drain(read: Reader, broker: float, broker_text: str) -> Measure:
    envelopes = int(read("backlog", "envelopes"))
    seconds = float(read("backlog", "drain_s"))
    complete = bool(read("backlog", "drain_complete"))
    per_s = float(read("backlog", "drain_per_s"))
    if envelopes < BACKLOG_GOAL_ENVELOPES:
        verdict = f"not judged: {envelopes:,} waiting"
    else:
        verdict = _verdict(complete and seconds <= BACKLOG_GOAL_SECONDS)
    drained = "" if complete else f", stopped with {read('backlog', 'drained'):,} drained"
    routed = float(read("backlog", "seed_to_all_routed_s"))
    return Measure(
        name=f"backlog of {envelopes:,} drained (push receiver back)",
        ours=f"{number(seconds)} s, {number(per_s)} /s{drained} (all routed in {number(routed)} s)",
        reference=broker_text,
        ratio=per_s / broker if per_s > 0 else None,
        goal=f"{BACKLOG_GOAL_ENVELOPES:,} in ≤ {BACKLOG_GOAL_SECONDS / 60:.0f} min",
        verdict=verdict,
        goal_ratio=BACKLOG_GOAL_ENVELOPES / BACKLOG_GOAL_SECONDS / broker,
    )


#: A latency phase that served less than this share of its offered load was saturated: its p99
#: is the length of its queue, and comparing two queues says nothing about the drain.
SATURATED_BELOW: Final = 0.9


def _saturated(latency: dict[str, Any]) -> bool:
    return float(latency["achieved_per_s"]) < SATURATED_BELOW * float(latency["offered_per_s"])


def _exchange_other_destination(read: Reader) -> Measure:
    during = read("backlog", "other_destination_during_drain")
    alone = read("latency")
    without = float(alone["p99_ms"])
    p99 = float(during["p99_ms"])
    finite = math.isfinite(p99) and math.isfinite(without) and p99 > 0
    if not finite:
        verdict = "not judged: saturated (p99 ∞)"
    elif _saturated(during) or _saturated(alone):
        verdict = (
            f"not judged: saturated ({number(float(alone['achieved_per_s']))} and "
            f"{number(float(during['achieved_per_s']))} /s served of "
            f"{number(float(alone['offered_per_s']))} offered)"
        )
    else:
        verdict = _verdict(p99 <= DRAIN_P99_FACTOR * without)
    return Measure(
        name="another destination's submit latency during the drain",
        ours=_latency_text(during),
        reference=f"p99 {number(without)} ms without the drain (latency phase)",
        ratio=without / p99 if finite else None,
        goal=f"p99 ≤ {DRAIN_P99_FACTOR:.0f}× without",
        verdict=verdict,
        goal_ratio=1 / DRAIN_P99_FACTOR,
    )
