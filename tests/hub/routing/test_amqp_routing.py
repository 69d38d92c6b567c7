"""Routing through the real RabbitMQ and PostgreSQL: outbox, relay, box queues, consumers."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aio_pika
import aiormq
import pytest
from sqlalchemy import func, select

from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader
from hub.envelopes.models import EnvelopeRecord
from hub.nppos.domain import Direction, RuleType
from hub.routing.amqp import AmqpBroker
from hub.routing.boxes import BoxConsumer
from hub.routing.broker import RoutingMessage
from hub.routing.models import OutboxMessage
from hub.routing.relay import OutboxRelay
from hub.routing.workers import RoutingWorkers
from hub.runtime import HubRuntime, build_runtime
from tests.hub.routing.conftest import certificate, eventually, register, run, submit

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

Channel = aio_pika.abc.AbstractChannel


@pytest.fixture
async def channel(rabbitmq_url: str) -> AsyncIterator[Channel]:
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


@pytest.fixture
async def broker(amqp_runtime: HubRuntime) -> AmqpBroker:
    broker = amqp_runtime.broker
    assert isinstance(broker, AmqpBroker)
    await broker.start()
    await broker.wait_connected(10)
    return broker


def relay_of(
    runtime: HubRuntime,
    broker: AmqpBroker,
    *,
    batch_size: int = 500,
    republish_after: timedelta | None = None,
) -> OutboxRelay:
    return OutboxRelay(
        sessionmaker=runtime.sessionmaker,
        broker=broker,
        republish_after=republish_after
        or timedelta(seconds=runtime.settings.outbox_republish_after_seconds),
        batch_size=batch_size,
    )


async def drain(channel: Channel, queue_name: str) -> list[RoutingMessage]:
    queue = await channel.get_queue(queue_name, ensure=True)
    messages = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        messages.append(RoutingMessage.decode(message.body))
    return messages


async def routed_at(runtime: HubRuntime, number: str) -> datetime | None:
    async with unit_of_work(runtime.sessionmaker) as session:
        result = await session.execute(
            select(EnvelopeRecord.routed_at).where(EnvelopeRecord.hub_delivery_number == number)
        )
        return result.scalar_one()


async def outbox_rows(runtime: HubRuntime) -> int:
    async with unit_of_work(runtime.sessionmaker) as session:
        count = await session.execute(select(func.count()).select_from(OutboxMessage))
        return int(count.scalar_one())


async def test_box_queues_are_quorum_queues_declared_idempotently(
    broker: AmqpBroker, channel: Channel
) -> None:
    await broker.declare_box("BB")
    topology = broker.topology
    # Declaring again with the same arguments is accepted (every process does it at start-up)...
    await topology.declare(channel)
    await topology.declare_box(channel, "BB")
    # ...while a classic queue of that name is refused: the box really is a quorum queue.
    with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
        await channel.declare_queue(
            topology.box_queue("BB"), durable=True, arguments={"x-queue-type": "classic"}
        )


async def test_envelope_is_published_only_after_its_transaction_commits(
    amqp_runtime: HubRuntime, broker: AmqpBroker, channel: Channel
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    relay = relay_of(amqp_runtime, broker)
    header = EnvelopeHeader(
        from_code="AA",
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number="AA-1",
    )
    async with unit_of_work(amqp_runtime.sessionmaker) as session:
        submission = await amqp_runtime.envelopes.deliver(
            session, caller=aa, header=header, content=certificate("AA-1"), validate_first=False
        )
        # Accepted, not yet committed: there is nothing the relay may publish.
        assert await relay.publish_batch() == 0

    assert await relay.publish_batch() == 1
    number = submission.header.hub_delivery_number
    assert await drain(channel, broker.topology.box_queue("BB")) == [
        RoutingMessage(hub_delivery_number=number or "", box_code="BB")
    ]
    # Published, not yet recorded by a box consumer: the outbox row stays (republish net).
    assert await outbox_rows(amqp_runtime) == 1


async def test_a_crash_between_commit_and_publication_loses_nothing(
    amqp_runtime: HubRuntime, rabbitmq_url: str
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    accepted = await submit(amqp_runtime, aa, "BB", "AA-2")
    number = accepted.hub_delivery_number or ""
    # The process that accepted it goes away before any relay ran.
    settings = amqp_runtime.settings
    await amqp_runtime.close()

    restarted = build_runtime(settings)
    workers = RoutingWorkers(restarted, refresh_seconds=0.2)
    await workers.start()
    try:
        await eventually(lambda: _is_routed(restarted, number))
        assert await outbox_rows(restarted) == 0
    finally:
        await workers.stop()
        await restarted.close()


async def _is_routed(runtime: HubRuntime, number: str) -> bool:
    return await routed_at(runtime, number) is not None


async def test_two_relays_never_publish_the_same_row_twice(
    amqp_runtime: HubRuntime, broker: AmqpBroker, channel: Channel
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    numbers = set()
    for i in range(300):
        accepted = await submit(amqp_runtime, aa, "BB", f"AA-R-{i:04d}")
        numbers.add(accepted.hub_delivery_number)
    second = build_runtime(amqp_runtime.settings)
    second_broker = second.broker
    assert isinstance(second_broker, AmqpBroker)
    await second_broker.start()
    await second_broker.wait_connected(10)
    try:
        # No box consumer runs here, so nothing is ever routed: republication is kept out of
        # the way (it has its own test), whatever the machine's speed.
        hour = timedelta(hours=1)
        relays = [
            relay_of(amqp_runtime, broker, batch_size=7, republish_after=hour),
            relay_of(second, second_broker, batch_size=7, republish_after=hour),
        ]

        async def drain_outbox(relay: OutboxRelay) -> None:
            published = 1
            while published:
                published = await relay.publish_batch()

        await asyncio.gather(*(drain_outbox(r) for r in relays))
        assert all(r.published > 0 for r in relays)  # both took part...
        assert sum(r.published for r in relays) == 300  # ...and no row went out twice
    finally:
        await second.close()
    box = await drain(channel, broker.topology.box_queue("BB"))
    published = Counter(m.hub_delivery_number for m in box)
    assert set(published) == numbers
    assert set(published.values()) == {1}


async def test_copies_and_delegated_envelopes_go_to_their_own_box_queues(
    amqp_runtime: HubRuntime, broker: AmqpBroker, channel: Channel
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    await register(amqp_runtime, "CC")
    await register(amqp_runtime, "XEU", is_channel=True)
    await run(
        amqp_runtime,
        lambda s: amqp_runtime.nppos.add_channel_rule(
            s,
            channel_code="XEU",
            rule_type=RuleType.DELEGATE,
            country_code="BB",
            direction=Direction.INC,
            certificate_type=851,
            certificate_status=70,
        ),
    )
    accepted = await submit(amqp_runtime, aa, "BB", "AA-3", forwardings=("CC",))
    assert await relay_of(amqp_runtime, broker).publish_batch() == 2
    copy_number = accepted.forwardings[0].hub_delivery_number
    assert await drain(channel, broker.topology.box_queue("XEU")) == [
        RoutingMessage(hub_delivery_number=accepted.hub_delivery_number or "", box_code="XEU")
    ]
    assert await drain(channel, broker.topology.box_queue("CC")) == [
        RoutingMessage(hub_delivery_number=copy_number or "", box_code="CC")
    ]


async def test_box_consumer_records_each_envelope_once_however_often_it_arrives(
    amqp_runtime: HubRuntime, broker: AmqpBroker
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    accepted = await submit(amqp_runtime, aa, "BB", "AA-4")
    number = accepted.hub_delivery_number or ""
    consumer = BoxConsumer(sessionmaker=amqp_runtime.sessionmaker, broker=broker)
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(stopping))
    try:
        message = RoutingMessage(hub_delivery_number=number, box_code="BB")
        await broker.publish([message, message, message], confirm_within=5)
        await eventually(lambda: _is_routed(amqp_runtime, number))
        first = await routed_at(amqp_runtime, number)
        await eventually(lambda: _consumed(consumer, 3))
        assert await routed_at(amqp_runtime, number) == first  # stamped once, not moved
        assert await outbox_rows(amqp_runtime) == 0
    finally:
        stopping.set()
        await task


async def _consumed(consumer: BoxConsumer, count: int) -> bool:
    return consumer.acked >= count


async def test_a_routing_message_lost_by_the_broker_is_published_again(
    amqp_runtime: HubRuntime, broker: AmqpBroker, channel: Channel
) -> None:
    aa = await register(amqp_runtime, "AA")
    await register(amqp_runtime, "BB")
    accepted = await submit(amqp_runtime, aa, "BB", "AA-5")
    number = accepted.hub_delivery_number or ""
    relay = relay_of(amqp_runtime, broker)
    assert await relay.publish_batch() == 1
    # An operator purges the box: the message is gone, the envelope not yet recorded.
    assert len(await drain(channel, broker.topology.box_queue("BB"))) == 1
    assert await relay.publish_batch() == 0  # published recently: not again yet
    await asyncio.sleep(amqp_runtime.settings.outbox_republish_after_seconds + 0.2)
    assert await relay.publish_batch() == 1
    workers = RoutingWorkers(amqp_runtime, refresh_seconds=0.2)
    await workers.start()
    try:
        await eventually(lambda: _is_routed(amqp_runtime, number))
    finally:
        await workers.stop()


async def test_a_message_that_is_not_a_routing_message_is_dead_lettered(
    amqp_runtime: HubRuntime, broker: AmqpBroker, channel: Channel
) -> None:
    await register(amqp_runtime, "BB")
    workers = RoutingWorkers(amqp_runtime, refresh_seconds=0.2)
    await workers.start()
    try:
        exchange = await channel.get_exchange(broker.topology.exchange)
        await broker.declare_box("BB")
        await exchange.publish(aio_pika.Message(b"<not json>"), routing_key="BB")
        await exchange.publish(
            aio_pika.Message(
                RoutingMessage(hub_delivery_number="no-such-number", box_code="BB").encode()
            ),
            routing_key="BB",
        )
        dead = await channel.get_queue(broker.topology.dead_queue)

        async def two_dead_letters() -> bool:
            return (await dead.declare()).message_count == 2

        await eventually(two_dead_letters)
    finally:
        await workers.stop()
