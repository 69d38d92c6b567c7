"""Push delivery to a real receiver (HTTPS, mutual TLS) through RabbitMQ and PostgreSQL."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.database import unit_of_work
from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.identity.domain import AuthenticatedNppo
from hub.routing.models import PushCircuit, PushDelivery
from hub.routing.workers import RoutingWorkers
from hub.runtime import HubRuntime, build_runtime
from tests.hub.routing.conftest import (
    PushPki,
    eventually,
    register,
    routing_settings,
    submit,
)
from tests.hub.routing.receiver import FakeReceiver, RunningReceiver, start_receiver

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
async def receivers(push_pki: PushPki) -> AsyncIterator[list[RunningReceiver]]:
    running: list[RunningReceiver] = []
    yield running
    for receiver in running:
        await receiver.stop()


async def new_receiver(push_pki: PushPki, receivers: list[RunningReceiver]) -> RunningReceiver:
    receiver = await start_receiver(
        cert=push_pki.receiver_cert, key=push_pki.receiver_key, client_ca=push_pki.ca
    )
    receivers.append(receiver)
    return receiver


@pytest.fixture
async def push_runtime(
    postgres_database_url: str, rabbitmq_url: str, tmp_path: Path, push_pki: PushPki
) -> AsyncIterator[HubRuntime]:
    runtime = build_runtime(
        routing_settings(
            database_url=postgres_database_url,
            data_dir=tmp_path,
            broker_url=rabbitmq_url,
            push_client_cert=push_pki.hub_cert,
            push_client_key=push_pki.hub_key,
            push_ca_bundle=push_pki.ca,
            push_timeout_seconds=1.0,
            push_circuit_threshold=3,
        )
    )
    yield runtime
    await runtime.close()


@pytest.fixture
async def workers(push_runtime: HubRuntime) -> AsyncIterator[RoutingWorkers]:
    workers = RoutingWorkers(push_runtime, refresh_seconds=0.2)
    yield workers
    await workers.stop()


async def record(runtime: HubRuntime, number: str) -> EnvelopeRecord:
    async with unit_of_work(runtime.sessionmaker) as session:
        result = await session.execute(
            select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number)
        )
        return result.scalar_one()


async def state_of(runtime: HubRuntime, number: str) -> TrackingState:
    return TrackingState((await record(runtime, number)).tracking_state)


async def final(runtime: HubRuntime, number: str) -> bool:
    return (await state_of(runtime, number)).is_final


async def events(runtime: HubRuntime, number: str) -> list[str]:
    envelope = await record(runtime, number)
    async with unit_of_work(runtime.sessionmaker) as session:
        rows = await session.execute(
            select(EnvelopeEvent.event)
            .where(EnvelopeEvent.envelope_id == envelope.id)
            .order_by(EnvelopeEvent.id)
        )
        return list(rows.scalars())


async def setup_push(
    runtime: HubRuntime, receiver: RunningReceiver, code: str = "PP"
) -> AuthenticatedNppo:
    sender = await register(runtime, "AA")
    await register(runtime, code, push_url=receiver.url)
    return sender


async def test_push_destination_receives_the_envelope_and_it_becomes_delivered(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    receiver = await new_receiver(push_pki, receivers)
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    accepted = await submit(push_runtime, aa, "PP", "AA-P-1")
    number = accepted.hub_delivery_number or ""

    await eventually(lambda: final(push_runtime, number))
    assert await state_of(push_runtime, number) is TrackingState.DELIVERED
    assert receiver.receiver.stored == [number]
    assert receiver.receiver.calls[number] == 1
    # The hub called with its own TLS client identity.
    assert receiver.receiver.client_fingerprints == {push_pki.hub_fingerprint}
    assert "pushed" in await events(push_runtime, number)


async def test_5xx_answers_are_retried_with_backoff_until_the_receiver_takes_it(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    receiver = await new_receiver(push_pki, receivers)
    receiver.receiver.behaviour.mode = "error"
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    number = (await submit(push_runtime, aa, "PP", "AA-P-2")).hub_delivery_number or ""

    await eventually(lambda: _called(receiver.receiver, number, 2))
    assert await state_of(push_runtime, number) is TrackingState.PENDING_DELIVERY
    receiver.receiver.behaviour.mode = "ok"
    await eventually(lambda: final(push_runtime, number), within=30)
    assert await state_of(push_runtime, number) is TrackingState.DELIVERED
    assert receiver.receiver.stored == [number]
    times = receiver.receiver.call_times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.02 for gap in gaps)  # never hammered: at least half the base delay


async def _called(receiver: FakeReceiver, number: str, times: int) -> bool:
    return receiver.calls[number] >= times


async def test_a_receiver_that_keeps_failing_ends_in_failed_delivery_with_the_reason(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    receiver = await new_receiver(push_pki, receivers)
    receiver.receiver.behaviour.mode = "fault"
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    number = (await submit(push_runtime, aa, "PP", "AA-P-3")).hub_delivery_number or ""

    await eventually(lambda: final(push_runtime, number), within=60)
    failed = await record(push_runtime, number)
    assert failed.tracking_state == TrackingState.FAILED_DELIVERY.value
    assert failed.error_message is not None
    assert "receiver database down" in failed.error_message
    assert f"attempt {push_runtime.settings.push_max_attempts}" in failed.error_message
    assert receiver.receiver.calls[number] == push_runtime.settings.push_max_attempts
    assert receiver.receiver.stored == []


async def test_a_receiver_answering_failed_delivery_is_taken_at_its_word(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    receiver = await new_receiver(push_pki, receivers)
    receiver.receiver.behaviour.mode = "refuse"
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    number = (await submit(push_runtime, aa, "PP", "AA-P-4")).hub_delivery_number or ""

    await eventually(lambda: final(push_runtime, number))
    refused = await record(push_runtime, number)
    assert refused.tracking_state == TrackingState.FAILED_DELIVERY.value
    assert refused.error_message == "unreadable by our system"
    assert receiver.receiver.calls[number] == 1  # a final answer is not retried


async def test_repeated_failures_open_the_destination_circuit_and_a_probe_closes_it(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    receiver = await new_receiver(push_pki, receivers)
    receiver.receiver.behaviour.mode = "timeout"
    receiver.receiver.behaviour.hang_seconds = 3
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    numbers = [
        (await submit(push_runtime, aa, "PP", f"AA-P-C{i}")).hub_delivery_number or ""
        for i in range(8)
    ]

    async def circuit_open() -> bool:
        async with unit_of_work(push_runtime.sessionmaker) as session:
            circuit = await session.get(PushCircuit, "PP")
            return circuit is not None and circuit.opened_until is not None

    await eventually(circuit_open, within=30)
    # While open, the receiver is left alone (in-flight calls may still land).
    await asyncio.sleep(0.3)
    calls_when_open = sum(receiver.receiver.calls.values())
    await asyncio.sleep(0.4)
    assert sum(receiver.receiver.calls.values()) <= calls_when_open + 1  # at most one probe
    async with unit_of_work(push_runtime.sessionmaker) as session:
        circuit = await session.get(PushCircuit, "PP")
        assert circuit is not None and "no answer within" in (circuit.last_error or "")

    receiver.receiver.behaviour.mode = "ok"
    for number in numbers:
        await eventually(lambda number=number: final(push_runtime, number), within=60)
    assert sorted(receiver.receiver.stored) == sorted(numbers)

    async def circuit_closed() -> bool:
        async with unit_of_work(push_runtime.sessionmaker) as session:
            circuit = await session.get(PushCircuit, "PP")
            return circuit is not None and circuit.opened_until is None

    await eventually(circuit_closed)


async def test_a_slow_destination_does_not_delay_another(
    postgres_database_url: str,
    rabbitmq_url: str,
    tmp_path: Path,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    # The slow receiver holds every call for 90 s, past the hub's 60 s timeout: its lane is
    # stuck in its first round for a minute. The fast destination must be served entirely
    # within that minute — proven by the slow receiver having seen no new call meanwhile.
    runtime = build_runtime(
        routing_settings(
            database_url=postgres_database_url,
            data_dir=tmp_path,
            broker_url=rabbitmq_url,
            push_client_cert=push_pki.hub_cert,
            push_client_key=push_pki.hub_key,
            push_ca_bundle=push_pki.ca,
            push_timeout_seconds=60.0,
        )
    )
    workers = RoutingWorkers(runtime, refresh_seconds=0.2)
    slow = await new_receiver(push_pki, receivers)
    slow.receiver.behaviour.mode = "timeout"
    slow.receiver.behaviour.hang_seconds = 90
    fast = await new_receiver(push_pki, receivers)
    try:
        aa = await setup_push(runtime, slow, code="SL")
        await register(runtime, "FA", push_url=fast.url)
        await workers.start()
        slow_numbers = [
            (await submit(runtime, aa, "SL", f"AA-S-{i}")).hub_delivery_number or ""
            for i in range(20)
        ]
        await eventually(lambda: _called_any(slow.receiver, 1), within=50)  # its lane hangs
        hanging = await _calls_once_settled(slow.receiver)
        fast_numbers = [
            (await submit(runtime, aa, "FA", f"AA-F-{i}")).hub_delivery_number or ""
            for i in range(10)
        ]
        for number in fast_numbers:
            await eventually(lambda number=number: final(runtime, number), within=50)
        assert sum(slow.receiver.calls.values()) == hanging  # still its first, hanging round
        assert sorted(fast.receiver.stored) == sorted(fast_numbers)
        assert not slow.receiver.stored
        assert not any([await final(runtime, n) for n in slow_numbers])
    finally:
        await workers.stop()
        await runtime.close()


async def _called_any(receiver: FakeReceiver, times: int) -> bool:
    return sum(receiver.calls.values()) >= times


async def _calls_once_settled(receiver: FakeReceiver, *, quiet_seconds: float = 1.0) -> int:
    """The receiver's call count once no new call came for ``quiet_seconds``: a lane starts a
    round's calls (up to its concurrency) together, but they arrive one by one."""
    count = sum(receiver.calls.values())
    while True:
        await asyncio.sleep(quiet_seconds)
        latest = sum(receiver.calls.values())
        if latest == count:
            return count
        count = latest


async def test_a_duplicated_routing_message_schedules_one_push(
    push_runtime: HubRuntime,
    workers: RoutingWorkers,
    receivers: list[RunningReceiver],
    push_pki: PushPki,
) -> None:
    from hub.routing.broker import RoutingMessage

    receiver = await new_receiver(push_pki, receivers)
    aa = await setup_push(push_runtime, receiver)
    await workers.start()
    number = (await submit(push_runtime, aa, "PP", "AA-P-D")).hub_delivery_number or ""
    await eventually(lambda: final(push_runtime, number))
    # The broker delivers the same routing message again (e.g. after a relay crash).
    message = RoutingMessage(hub_delivery_number=number, box_code="PP")
    await workers.broker.publish([message, message], confirm_within=5)
    await eventually(lambda: _acked(workers, 3))
    await asyncio.sleep(0.3)
    assert receiver.receiver.calls[number] == 1
    async with unit_of_work(push_runtime.sessionmaker) as session:
        rows = await session.execute(
            select(PushDelivery).where(PushDelivery.hub_delivery_number == number)
        )
        assert len(rows.all()) == 1


async def _acked(workers: RoutingWorkers, count: int) -> bool:
    return workers.boxes.acked >= count
