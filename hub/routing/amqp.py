"""`Broker` over RabbitMQ (aio-pika), with its own reconnect loop.

One connection per process, two channels: one with publisher confirms for the relay, one for
the box consumers. A supervisor task connects, declares the topology, restarts every
subscription, and after any connection loss does it all again (with capped backoff). While
disconnected, `publish` raises `BrokerUnavailable` at once (the outbox keeps the rows) and
unacknowledged deliveries go back to their queues on the broker side, to be delivered again:
consumers are idempotent, so redelivery is harmless.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)

from hub.routing.broker import BatchHandler, BrokerUnavailable, RoutingMessage
from hub.routing.topology import Topology

logger = logging.getLogger(__name__)

#: How long a batch waits for more messages after the first one: short, because the box
#: consumer's cost is one transaction per batch, not per message.
BATCH_LINGER_SECONDS = 0.002


class _AmqpDelivery:
    __slots__ = ("_message",)

    def __init__(self, message: AbstractIncomingMessage) -> None:
        self._message = message

    @property
    def body(self) -> bytes:
        return self._message.body

    async def ack(self) -> None:
        await self._settle(self._message.ack())

    async def reject(self) -> None:
        await self._settle(self._message.reject(requeue=False))

    async def requeue(self) -> None:
        await self._settle(self._message.nack(requeue=True))

    @staticmethod
    async def _settle(settling: "asyncio.Future[None] | object") -> None:
        # The channel may have closed since the delivery: the broker has then requeued the
        # message already and will deliver it again, so there is nothing left to settle.
        with contextlib.suppress(Exception):
            await settling  # type: ignore[misc]


class _Subscription:
    def __init__(self, box_code: str, handler: BatchHandler, batch_size: int) -> None:
        self.box_code = box_code
        self.handler = handler
        self.batch_size = batch_size
        self.consumer_tag: str | None = None
        self.queue: aio_pika.abc.AbstractQueue | None = None
        self.task: asyncio.Task[None] | None = None


class AmqpBroker:
    volatile = False

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        connect_timeout: float = 10.0,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        self.topology = topology
        self._url = url
        self._connect_timeout = connect_timeout
        self._max_reconnect_delay = max_reconnect_delay
        self._subscriptions: dict[str, _Subscription] = {}
        self._ready = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._consume_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._declared_boxes: set[str] = set()

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="amqp-supervisor")

    async def wait_connected(self, within_seconds: float) -> None:
        await asyncio.wait_for(self._ready.wait(), within_seconds)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._teardown()

    async def declare_box(self, box_code: str) -> None:
        if box_code in self._declared_boxes:
            return
        channel = self._publish_channel
        if channel is None or not self._ready.is_set():
            raise BrokerUnavailable("not connected to RabbitMQ")
        try:
            await self.topology.declare_box(channel, box_code)
        except Exception as exc:
            raise BrokerUnavailable(f"could not declare box {box_code}: {exc!r}") from exc
        self._declared_boxes.add(box_code)

    async def publish(self, messages: Sequence[RoutingMessage], *, confirm_within: float) -> None:
        exchange = self._exchange
        if exchange is None or not self._ready.is_set():
            raise BrokerUnavailable("not connected to RabbitMQ")
        for box in {m.box_code for m in messages}:
            await self.declare_box(box)
        try:
            # Confirms arrive asynchronously: publish everything, then wait for all of them.
            await asyncio.wait_for(
                asyncio.gather(*(self._publish_one(exchange, m) for m in messages)),
                confirm_within,
            )
        except Exception as exc:
            raise BrokerUnavailable(f"publication not confirmed: {exc!r}") from exc

    @staticmethod
    async def _publish_one(exchange: AbstractExchange, message: RoutingMessage) -> None:
        await exchange.publish(
            aio_pika.Message(
                message.encode(),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message.hub_delivery_number,
                content_type="application/json",
            ),
            routing_key=message.box_code,
            mandatory=True,  # an unroutable message raises instead of vanishing
        )

    async def subscribe(self, box_code: str, handler: BatchHandler, *, batch_size: int) -> None:
        if box_code in self._subscriptions:
            return
        subscription = _Subscription(box_code, handler, batch_size)
        self._subscriptions[box_code] = subscription
        if self._ready.is_set():
            try:
                await self._consume(subscription)
            except Exception:
                # The supervisor restarts every subscription on the next connection.
                logger.warning("could not start consuming box %s yet", box_code, exc_info=True)

    async def unsubscribe(self, box_code: str) -> None:
        subscription = self._subscriptions.pop(box_code, None)
        if subscription is not None:
            await self._stop_consuming(subscription)

    # ------------------------------------------------------------------ connection lifecycle

    async def _supervise(self) -> None:
        delay = 0.2
        while not self._closing:
            lost = asyncio.Event()
            try:
                connection = await aio_pika.connect(self._url, timeout=self._connect_timeout)
                connection.close_callbacks.add(_setter(lost))
                self._connection = connection
                await self._open(connection)
                delay = 0.2
                logger.info("connected to RabbitMQ, %d box(es) consumed", len(self._subscriptions))
                await lost.wait()
                logger.warning("RabbitMQ connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("RabbitMQ unavailable (%r); retrying in %.1fs", exc, delay)
            await self._teardown()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    async def _open(self, connection: AbstractConnection) -> None:
        self._declared_boxes.clear()
        self._publish_channel = await connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        await self.topology.declare(self._publish_channel)
        self._exchange = await self._publish_channel.get_exchange(
            self.topology.exchange, ensure=False
        )
        self._consume_channel = await connection.channel()
        self._ready.set()
        for subscription in list(self._subscriptions.values()):
            await self._consume(subscription)

    async def _consume(self, subscription: _Subscription) -> None:
        channel = self._consume_channel
        assert channel is not None
        # Prefetch per consumer: what one box may hold unacknowledged in this process.
        await channel.set_qos(prefetch_count=subscription.batch_size * 2)
        queue = await self.topology.declare_box(channel, subscription.box_code)
        self._declared_boxes.add(subscription.box_code)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

        async def on_message(message: AbstractIncomingMessage) -> None:
            inbox.put_nowait(message)

        subscription.queue = queue
        subscription.consumer_tag = await queue.consume(on_message)
        subscription.task = asyncio.create_task(
            _batches(inbox, subscription), name=f"amqp-box-{subscription.box_code}"
        )

    async def _stop_consuming(self, subscription: _Subscription) -> None:
        if subscription.task is not None:
            subscription.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscription.task
            subscription.task = None
        if subscription.queue is not None and subscription.consumer_tag is not None:
            with contextlib.suppress(Exception):
                await subscription.queue.cancel(subscription.consumer_tag)
        subscription.queue = None
        subscription.consumer_tag = None

    async def _teardown(self) -> None:
        self._ready.clear()
        for subscription in self._subscriptions.values():
            await self._stop_consuming(subscription)
        connection, self._connection = self._connection, None
        self._publish_channel = self._consume_channel = None
        self._exchange = None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)


def _setter(event: asyncio.Event) -> Callable[..., None]:
    return lambda *_args: event.set()


async def _batches(
    inbox: "asyncio.Queue[AbstractIncomingMessage]", subscription: _Subscription
) -> None:
    while True:
        first = await inbox.get()
        batch = [first]
        if inbox.empty():
            await asyncio.sleep(BATCH_LINGER_SECONDS)
        while len(batch) < subscription.batch_size and not inbox.empty():
            batch.append(inbox.get_nowait())
        deliveries = [_AmqpDelivery(m) for m in batch]
        try:
            await subscription.handler(deliveries)
        except Exception:
            # Handlers settle every delivery themselves; if one failed anyway, give the batch
            # back (settling a settled message is refused and ignored) and keep consuming.
            logger.exception("box %s: batch handler failed", subscription.box_code)
            for delivery in deliveries:
                await delivery.requeue()
