"""End-to-end exchange on PostgreSQL + RabbitMQ, against the raw broker round trip.

What one run measures, on this machine, with real processes (`ephyto hub serve` x --hubs on
random ports with mutual TLS, `ephyto hub worker` x --workers) and ~40 KB certificates
(`tests/core/factories.py` `make_typical`, 41 KB):

1. reference — the raw broker round trip: the same 41 KB bytes published with confirms to a
   quorum queue and consumed with ack, pipelined (256 confirms / 256 prefetch in flight);
2. throughput — closed loop: --concurrency national-system tasks submit over HTTPS (REST face,
   validate_first=true), the importer pulls its box and acknowledges what each pull brought in
   one request; the clock stops when every envelope is acknowledged *and* recorded in its box by the
   routing workers (submit, validate, persist, route, pull, acknowledge);
3. latency — open loop at a fixed offered load (--rate envelopes/s for --rate-seconds), to
   another destination, with its importer pulling: submit latency measured from each request's
   scheduled time (so a stalled hub cannot hide its queue), p50 / p99;
4. backlog — --backlog envelopes for one push destination are put in the database as accepted
   (bulk SQL, not HTTP: submitting 100,000 over HTTP would take longer than the goal being
   measured) while its receiver answers 503; they are routed and wait; resident memory of every
   process is sampled while they wait; then the receiver recovers, and the drain time is taken
   while the latency load of (3) runs again against another destination: its p99 is compared
   with (3).

Peak RSS is the maximum VmRSS seen per process (hubs, workers, RabbitMQ, this load generator).

    .venv/bin/python -m benchmarks.exchange [--envelopes 3000] [--rate 200] [--backlog 100000]
        [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from benchmarks import floor
from benchmarks.support import cpu_model, cpu_seconds, postgres_admin, postgres_url
from ephyto_core._pki import create_ca, issue_client_certificate, issue_server_certificate
from ephyto_core.certificate import build_certificate_xml
from hub.database import unit_of_work, utcnow
from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeContent, EnvelopeRecord
from hub.migrate import upgrade_to_head
from hub.nppos.domain import DeliveryMode
from hub.routing.models import OutboxMessage
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings, async_database_url
from tests.core.factories import make_typical
from tests.hub.routing.cluster import (
    ClusterConfig,
    HubProcess,
    NppoClient,
    WorkerProcess,
    client_context,
    free_port,
)
from tests.hub.routing.receiver import FakeReceiver, start_receiver

RABBITMQ = os.environ.get("EPHYTO_BENCH_RABBITMQ", "127.0.0.1:5672")
TEMPLATE_NUMBER = b"PE-2025-0000000"


def typical_certificate() -> bytes:
    xml = build_certificate_xml(make_typical())
    assert xml.count(TEMPLATE_NUMBER) == 1
    return xml


def numbered(template: bytes, number: str) -> str:
    return template.replace(TEMPLATE_NUMBER, number.encode()).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ------------------------------------------------------------------------------ memory sampling


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def postgres_pids() -> list[int]:
    """The server's processes: the postmaster (whose children's time includes the backends that
    have exited) and every live backend and helper. Other databases' work counts too."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@dataclass
class CpuMeter:
    """CPU seconds spent by each of the run's processes between `start` and `ms_per`; PostgreSQL's
    processes are summed as one."""

    pids: dict[str, int]
    started: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now["postgresql"] = sum(cpu_seconds(pid) for pid in postgres_pids())
        return now

    def start(self) -> None:
        self.started = self._now()

    def ms_per(self, items: int) -> dict[str, float]:
        now = self._now()
        return {
            name: (now[name] - self.started.get(name, 0.0)) * 1000 / items
            for name in now
            if name in self.started
        }


def rabbit_pid() -> int | None:
    found = subprocess.run(["pgrep", "-o", "beam.smp"], capture_output=True, text=True)
    return int(found.stdout.split()[0]) if found.stdout.strip() else None


@dataclass
class MemorySampler:
    pids: dict[str, int]
    peaks: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    series: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def sample(self, label: float) -> dict[str, float]:
        now = {name: rss_mib(pid) for name, pid in self.pids.items()}
        for name, value in now.items():
            self.peaks[name] = max(self.peaks.get(name, 0.0), value)
        self.last = now
        self.series.append((label, now))
        return now

    async def run(self, stop: asyncio.Event, every: float = 0.5) -> None:
        started = time.monotonic()
        while not stop.is_set():
            self.sample(time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


# ------------------------------------------------------------------------------ phases


async def poll_until(check: Callable[[], Awaitable[bool]], *, every: float) -> None:
    while True:
        if await check():
            return
        await asyncio.sleep(every)


async def _at_least(items: list[str], count: int) -> bool:
    return len(items) >= count


async def _none(runtime: HubRuntime, *conditions: Any) -> bool:
    return await count_where(runtime, *conditions) == 0


async def broker_reference(url: str, body: bytes, messages: int) -> dict[str, float]:
    """Messages/s for publish-with-confirms + consume-with-ack of `body` on a quorum queue, and
    the CPU ms per message of this client and of RabbitMQ."""
    rabbit = rabbit_pid()
    connection = await aio_pika.connect(url)
    try:
        publish = await connection.channel(publisher_confirms=True)
        consume = await connection.channel()
        await consume.set_qos(prefetch_count=256)
        name = f"bench.reference.{uuid.uuid4().hex[:6]}"
        queue = await consume.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == messages:
                done.set()

        tag = await queue.consume(on_message)
        window = asyncio.Semaphore(256)

        async def send(i: int) -> None:
            async with window:
                await publish.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=name,
                )

        started = time.perf_counter()
        client_before = time.process_time()
        rabbit_before = cpu_seconds(rabbit) if rabbit is not None else 0.0
        await asyncio.gather(*(send(i) for i in range(messages)))
        await done.wait()
        elapsed = time.perf_counter() - started
        client_ms = (time.process_time() - client_before) * 1000 / messages
        rabbit_ms = (
            (cpu_seconds(rabbit) - rabbit_before) * 1000 / messages if rabbit is not None else 0.0
        )
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        return {
            "per_s": messages / elapsed,
            "client": client_ms,
            "server": rabbit_ms,
            "total": client_ms + rabbit_ms,
        }
    finally:
        await connection.close()


async def puller(client: NppoClient, stop: asyncio.Event, acked: list[str]) -> None:
    """A national system's receiving loop: pull what waits (up to 100 at a time), acknowledge
    them in one request (`POST /boxes/mine/acknowledgements`), and pull again."""
    while True:
        pulled = await client.pull_all()
        if not pulled:
            if stop.is_set():
                return
            await asyncio.sleep(0.05)
            continue
        numbers = [envelope["header"]["hub_delivery_number"] for envelope in pulled]
        results = await client.acknowledge_all(numbers)
        refused = [r for r in results if r["status"] != 200]
        assert not refused, refused
        acked.extend(numbers)


async def routed_count(runtime: HubRuntime, box: str, prefix: str) -> int:
    async with unit_of_work(runtime.sessionmaker) as session:
        result = await session.execute(
            select(func.count())
            .select_from(EnvelopeRecord)
            .where(
                EnvelopeRecord.box_code == box,
                EnvelopeRecord.nppo_certificate_number.like(f"{prefix}%"),
                EnvelopeRecord.routed_at.is_not(None),
            )
        )
        return int(result.scalar_one())


async def throughput(
    runtime: HubRuntime,
    sender: NppoClient,
    receiver: NppoClient,
    template: bytes,
    cpu: CpuMeter,
    *,
    envelopes: int,
    concurrency: int,
) -> dict[str, Any]:
    stop = asyncio.Event()
    acked: list[str] = []
    pull_task = asyncio.create_task(puller(receiver, stop, acked))
    latencies: list[float] = []
    next_index = iter(range(envelopes))

    async def submitter() -> None:
        for i in next_index:
            number = f"T-{i:07d}"
            started = time.perf_counter()
            await sender.submit(to=receiver.code, number=number, content=numbered(template, number))
            latencies.append(time.perf_counter() - started)

    cpu.start()
    started = time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    submitted = time.perf_counter() - started

    async def all_done() -> bool:
        routed = await routed_count(runtime, receiver.code, "T-")
        return len(acked) >= envelopes and routed >= envelopes

    await poll_until(all_done, every=0.05)
    elapsed = time.perf_counter() - started
    cpu_ms = cpu.ms_per(envelopes)
    stop.set()
    await pull_task
    return {
        "envelopes": envelopes,
        "cpu_ms_per_envelope": cpu_ms,
        "elapsed_s": elapsed,
        "envelopes_per_s": envelopes / elapsed,
        "submit_only_per_s": envelopes / submitted,
        "closed_loop_submit_p50_ms": percentile(latencies, 0.5) * 1000,
        "closed_loop_submit_p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def fixed_load(
    sender: NppoClient,
    receiver: NppoClient,
    template: bytes,
    *,
    rate: float,
    seconds: float,
    tag: str,
) -> dict[str, float]:
    stop = asyncio.Event()
    acked: list[str] = []
    pull_task = asyncio.create_task(puller(receiver, stop, acked))
    total = int(rate * seconds)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    # At most 64 requests in flight (the client's connection pool); the rest wait here. Their
    # latency still counts from the scheduled time, so waiting for a connection is included.
    # (Thousands of requests queued inside one httpx pool cost the load generator quadratic CPU.)
    in_flight = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        number = f"{tag}-{i:07d}"
        async with in_flight:
            await sender.submit(to=receiver.code, number=number, content=numbered(template, number))
        latencies.append(loop.time() - scheduled)

    # Open loop, but bounded: a request still unanswered `grace` seconds after the schedule
    # ends is cancelled and counted as unanswered (an infinite latency in the percentiles).
    grace = max(30.0, seconds)
    tasks = [asyncio.create_task(one(i)) for i in range(total)]
    _done, late = await asyncio.wait(tasks, timeout=0.1 + seconds + grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    elapsed = loop.time() - start
    answered = len(latencies)
    achieved = answered / elapsed
    latencies.extend([float("inf")] * len(late))
    await poll_until(lambda: _at_least(acked, answered), every=0.05)
    stop.set()
    await pull_task
    return {
        "offered_per_s": rate,
        "achieved_per_s": achieved,
        "scheduled": total,
        "answered": answered,
        "unanswered_within_limit": len(late),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def seed_backlog(runtime: HubRuntime, box: str, count: int, template: bytes) -> None:
    """`count` accepted envelopes for `box`, as the service leaves them: envelope row (sharing one
    content row), outbox row, not yet routed."""
    import hashlib

    data = numbered(template, "B-0000000").encode()
    digest = hashlib.sha256(data).hexdigest()
    now = utcnow()
    async with unit_of_work(runtime.sessionmaker) as session:
        content_id = (
            await session.execute(
                insert(EnvelopeContent)
                .values(sha256=digest, size=len(data), data=data)
                .returning(EnvelopeContent.id)
            )
        ).scalar_one()
    chunk = 5000
    for first in range(0, count, chunk):
        rows = []
        for i in range(first, min(count, first + chunk)):
            rows.append(
                {
                    "hub_delivery_number": str(uuid.uuid4()),
                    "kind": "certificate",
                    "from_code": "AA",
                    "to_code": box,
                    "box_code": box,
                    "certificate_type": 851,
                    "certificate_status": 70,
                    "nppo_certificate_number": f"B-{i:07d}",
                    "tracking_state": TrackingState.PENDING_DELIVERY.value,
                    "content_id": content_id,
                    "content_sha256": digest,
                    "pull_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with unit_of_work(runtime.sessionmaker) as session:
            ids = (
                await session.execute(
                    insert(EnvelopeRecord).returning(
                        EnvelopeRecord.id, EnvelopeRecord.hub_delivery_number
                    ),
                    rows,
                )
            ).all()
            await session.execute(
                insert(OutboxMessage),
                [
                    {
                        "envelope_id": envelope_id,
                        "hub_delivery_number": number,
                        "box_code": box,
                        "created_at": now,
                        "publish_count": 0,
                    }
                    for envelope_id, number in ids
                ],
            )


async def count_where(runtime: HubRuntime, *conditions: Any) -> int:
    async with unit_of_work(runtime.sessionmaker) as session:
        result = await session.execute(
            select(func.count()).select_from(EnvelopeRecord).where(*conditions)
        )
        return int(result.scalar_one())


# ------------------------------------------------------------------------------ the run


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ephyto-bench-"))
    name = f"ephyto_bench_{uuid.uuid4().hex[:8]}"
    vhost = name
    await postgres_admin(f'CREATE DATABASE "{name}"')
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    database_url = postgres_url(name)
    broker_url = f"amqp://guest:guest@{RABBITMQ}/{vhost}"
    processes: list[Any] = []
    clients: list[NppoClient] = []
    results: dict[str, Any] = {"machine": machine()}
    try:
        await asyncio.to_thread(upgrade_to_head, async_database_url(database_url))
        ca = create_ca().save(work, "ca")
        server = issue_server_certificate(ca).save(work, "server")
        hub_client = issue_client_certificate(ca, nppo_code="HUB").save(work, "hub")
        codes = ("AA", "BB", "CC", "DD")
        certs = {c: issue_client_certificate(ca, nppo_code=c).save(work, c.lower()) for c in codes}
        template = typical_certificate()
        results["certificate_bytes"] = len(template)

        receiver = await start_receiver(
            cert=server.cert_path,  # type: ignore[arg-type]
            key=server.key_path,  # type: ignore[arg-type]
            client_ca=ca.cert_path,  # type: ignore[arg-type]
            receiver=FakeReceiver(),
        )
        runtime = build_runtime(
            HubSettings(database_url=database_url, data_dir=work, broker_url="")
        )
        async with unit_of_work(runtime.sessionmaker) as session:
            for code in codes:
                await runtime.nppos.register(session, code=code, name=code)
                await runtime.nppos.add_client_certificate(
                    session, code=code, certificate=certs[code].cert_pem()
                )
            await runtime.nppos.register(
                session,
                code="PP",
                name="PP",
                delivery_mode=DeliveryMode.PUSH,
                push_url=receiver.url,
            )
        config = ClusterConfig(
            database_url=database_url,
            broker_url=broker_url,
            broker_prefix="bench",
            data_dir=work,
            tls_cert=server.cert_path,  # type: ignore[arg-type]
            tls_key=server.key_path,  # type: ignore[arg-type]
            client_ca=ca.cert_path,  # type: ignore[arg-type]
            push_cert=hub_client.cert_path,  # type: ignore[arg-type]
            push_key=hub_client.key_path,  # type: ignore[arg-type]
            extra={
                "EPHYTO_PUSH_CONCURRENCY": str(args.push_concurrency),
                "EPHYTO_PUSH_CIRCUIT_OPEN_SECONDS": "1",
                "EPHYTO_PUSH_BACKOFF_MAX_SECONDS": "2",
                "EPHYTO_PUSH_MAX_ATTEMPTS": "1000",
            },
        )
        hubs = [HubProcess(f"hub-{i}", config) for i in range(args.hubs)]
        workers = [WorkerProcess(f"worker-{i}", config) for i in range(args.workers)]
        processes = [*hubs, *workers]
        for process in processes:
            process.start()
        contexts = {
            c: client_context(ca=ca.cert_path, cert=certs[c].cert_path, key=certs[c].key_path)  # type: ignore[arg-type]
            for c in codes
        }
        for hub in hubs:
            await hub.wait_ready(contexts["AA"])
        clients_by_code = {c: NppoClient(c, [h.url for h in hubs], contexts[c]) for c in codes}
        clients = list(clients_by_code.values())
        pids = {p.name: p.process.pid for p in processes if p.process is not None}
        pids["load-generator"] = os.getpid()
        if (pid := rabbit_pid()) is not None:
            pids["rabbitmq"] = pid
        memory = MemorySampler(pids)
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(memory.run(stop_sampling))

        # Warm-up: connections, prepared statements, every lazy import.
        for i in range(20):
            await clients_by_code["AA"].submit(
                to="DD", number=f"W-{i:07d}", content=numbered(template, f"W-{i:07d}")
            )
        print("1/4 raw broker round trip, and the floor of the other parts", flush=True)
        reference = await broker_reference(broker_url, template, args.reference_messages)
        results["broker_reference_per_s"] = reference["per_s"]
        print(f"    {results['broker_reference_per_s']:.0f} msg/s", flush=True)
        results["floor"] = await floor_phase(
            work, ca, contexts["AA"], template, database_url, reference, args
        )
        print(f"    floor {results['floor']}", flush=True)
        print("2/4 end-to-end throughput", flush=True)
        results["throughput"] = await throughput(
            runtime,
            clients_by_code["AA"],
            clients_by_code["BB"],
            template,
            CpuMeter(pids),
            envelopes=args.envelopes,
            concurrency=args.concurrency,
        )
        print(f"    {results['throughput']}", flush=True)
        print(f"3/4 fixed load {args.rate}/s", flush=True)
        results["latency"] = await fixed_load(
            clients_by_code["AA"],
            clients_by_code["CC"],
            template,
            rate=args.rate,
            seconds=args.rate_seconds,
            tag="L",
        )
        print(f"    {results['latency']}", flush=True)
        if args.backlog:
            print(f"4/4 backlog of {args.backlog} for one push destination", flush=True)
            results["backlog"] = await backlog_phase(
                runtime, receiver.receiver, memory, clients_by_code, template, args
            )
            print(f"    {results['backlog']}", flush=True)
        stop_sampling.set()
        await sampler
        results["peak_rss_mib"] = memory.peaks
        server_cpu = results["throughput"]["cpu_ms_per_envelope"]
        results["floor"]["server_measured_ms"] = sum(
            ms for name, ms in server_cpu.items() if name != "load-generator"
        )
        results["floor"]["measured_with_client_ms"] = sum(server_cpu.values())
    finally:
        for client in clients:
            await client.aclose()
        for process in processes:
            process.stop()
        try:
            await receiver.stop()
            await runtime.close()
        except NameError:
            pass
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        rabbitmqctl("delete_vhost", vhost)
    return results


async def floor_phase(
    work: Path,
    ca: Any,
    client_ssl: Any,
    template: bytes,
    database_url: str,
    reference: dict[str, float],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The raw cost of an envelope's unavoidable parts on this machine (:mod:`benchmarks.floor`),
    next to the CPU a goal of --goal-rate envelopes/s leaves per envelope on this machine."""
    server = issue_server_certificate(ca, names=["127.0.0.1"]).save(work, "floor-server")
    body = json.dumps(
        {"from": "AA", "to": "BB", "content": numbered(template, "F-0000001")}
    ).encode()
    parts: dict[str, dict[str, float]] = {
        "https_request": await floor.https_request(
            body=body,
            ca=ca.cert_path,
            cert=server.cert_path,  # type: ignore[arg-type]
            key=server.key_path,  # type: ignore[arg-type]
            client_ssl=client_ssl,
            port=free_port(),
            count=args.floor_count,
        ),
        "validation": floor.validation(template, count=args.floor_count),
        "broker_round_trip": {name: reference[name] for name in ("client", "server", "total")},
        "postgres_commit": await floor.postgres_commit(
            database_url,
            data=template,
            count=args.floor_count,
            postgres_cpu=lambda: sum(cpu_seconds(pid) for pid in postgres_pids()),
        ),
    }
    cores = os.cpu_count() or 1
    return {
        "parts_ms": parts,
        "parts_per_envelope": floor.PARTS_PER_ENVELOPE,
        "per_envelope_ms": floor.per_envelope(parts),
        "goal_per_s": args.goal_rate,
        "cores": cores,
        "budget_ms_at_goal": cores * 1000 / args.goal_rate,
    }


async def backlog_phase(
    runtime: HubRuntime,
    receiver: FakeReceiver,
    memory: MemorySampler,
    clients: dict[str, NppoClient],
    template: bytes,
    args: argparse.Namespace,
) -> dict[str, Any]:
    receiver.behaviour.mode = "error"
    before = dict(memory.sample(-1))
    started = time.perf_counter()
    await seed_backlog(runtime, "PP", args.backlog, template)
    seeded = time.perf_counter() - started
    unrouted = (EnvelopeRecord.box_code == "PP", EnvelopeRecord.routed_at.is_(None))
    await poll_until(lambda: _none(runtime, *unrouted), every=0.5)
    routed = time.perf_counter() - started
    # All of them wait now (routed, push schedule due, receiver down): watch memory a while.
    waiting_peaks: dict[str, float] = {}
    for _ in range(args.wait_seconds * 2):
        now = memory.sample(-2)
        for name, value in now.items():
            waiting_peaks[name] = max(waiting_peaks.get(name, 0.0), value)
        await asyncio.sleep(0.5)
    receiver.behaviour.mode = "ok"
    drain_started = time.perf_counter()
    load = asyncio.create_task(
        fixed_load(
            clients["AA"],
            clients["DD"],
            template,
            rate=args.rate,
            seconds=args.rate_seconds,
            tag="D",
        )
    )
    pending = EnvelopeRecord.tracking_state == TrackingState.PENDING_DELIVERY.value
    deadline = drain_started + args.drain_timeout
    left = args.backlog
    while left and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        left = await count_where(runtime, EnvelopeRecord.box_code == "PP", pending)
    drained = time.perf_counter() - drain_started
    during = await load
    return {
        "envelopes": args.backlog,
        "seed_s": seeded,
        "seed_to_all_routed_s": routed,
        "rss_before_mib": before,
        "rss_peak_while_waiting_mib": waiting_peaks,
        "drain_s": drained,
        "drained": args.backlog - left,
        "drain_per_s": (args.backlog - left) / drained,
        "drain_complete": left == 0,
        "other_destination_during_drain": during,
        "receiver_stored": len(receiver.stored),
    }


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envelopes", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--rate-seconds", type=float, default=15)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--wait-seconds", type=int, default=20)
    parser.add_argument(
        "--drain-timeout", type=float, default=600, help="stop watching the drain after this"
    )
    parser.add_argument("--reference-messages", type=int, default=5000)
    parser.add_argument("--hubs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--push-concurrency", type=int, default=16)
    parser.add_argument(
        "--floor-count", type=int, default=2000, help="requests / inserts per floor part"
    )
    parser.add_argument(
        "--goal-rate", type=float, default=500, help="the throughput goal the floor is set against"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    # The load generator runs on uvloop like the hub processes: it shares their two cores, and
    # every millisecond it spends is one they do not get.
    try:
        import uvloop
    except ImportError:
        results = asyncio.run(run(args))
    else:
        results = uvloop.run(run(args))
    print(json.dumps(results, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
