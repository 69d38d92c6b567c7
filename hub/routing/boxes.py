"""Box consumers: take routing messages off the box queues and record them in the database.

For every batch of messages (one box, up to `batch_size`): one transaction records each envelope
in its box (`routed_at`), schedules a push for push-mode boxes (a `push_deliveries` row, keyed on
the envelope, so a message seen twice schedules one push) and deletes the outbox rows; after the
commit the messages are acknowledged. Nothing slow happens between delivery and ack: the remote
call of a push runs later, in a push lane, with no broker message held.

A message that is not a routing message, or names no envelope, is rejected into the dead-letter
queue. If the database is unavailable the batch is retried here (not requeued: requeues count
towards the delivery limit), until it commits or the worker stops; a worker killed meanwhile
leaves the messages unacknowledged, and RabbitMQ delivers them again.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work, utcnow
from hub.routing import repository
from hub.routing.broker import Broker, Delivery, RoutingMessage
from hub.routing.timing import wait_or_stop

logger = logging.getLogger(__name__)


class BoxConsumer:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        on_push_work: Callable[[str], None] = lambda _box: None,
        batch_size: int = 200,
        refresh_seconds: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._broker = broker
        self._on_push_work = on_push_work
        self._batch_size = batch_size
        self._refresh = refresh_seconds
        self._clock = clock
        self._stopping = asyncio.Event()
        self._boxes: set[str] = set()
        #: Deliveries acknowledged / dead-lettered by this consumer (for operators and tests).
        self.acked = 0
        self.dead_lettered = 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume every receiving box; pick up boxes registered later within `refresh`."""
        self._stopping = stopping
        try:
            while not stopping.is_set():
                try:
                    await self.refresh_boxes()
                except Exception:
                    logger.warning("box consumer: could not read the registry", exc_info=True)
                await wait_or_stop(stopping, self._refresh)
        finally:
            for box in list(self._boxes):
                await self._broker.unsubscribe(box)
            self._boxes.clear()

    async def refresh_boxes(self) -> None:
        async with unit_of_work(self._sessionmaker) as session:
            boxes = set(await repository.receiving_boxes(session))
        for box in sorted(boxes - self._boxes):
            await self._broker.subscribe(box, self.handle, batch_size=self._batch_size)
        for box in sorted(self._boxes - boxes):
            await self._broker.unsubscribe(box)
        self._boxes = boxes

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        messages: dict[str, list[Delivery]] = {}
        for delivery in deliveries:
            try:
                message = RoutingMessage.decode(delivery.body)
            except ValueError:
                logger.error("dead-lettering a message that is not a routing message")
                self.dead_lettered += 1
                await delivery.reject()
                continue
            messages.setdefault(message.hub_delivery_number, []).append(delivery)
        if not messages:
            return
        routed = await self._route(sorted(messages))
        if routed is None:  # stopping before the database came back: deliver them again
            for waiting in messages.values():
                for delivery in waiting:
                    await delivery.requeue()
            return
        for number, waiting in messages.items():
            for delivery in waiting:
                if number in routed.known:
                    await delivery.ack()
                    self.acked += 1
                else:
                    logger.error("dead-lettering a routing message for unknown %s", number)
                    self.dead_lettered += 1
                    await delivery.reject()
        for box in routed.push_boxes:
            self._on_push_work(box)

    async def _route(self, numbers: Sequence[str]) -> repository.Routed | None:
        failures = 0
        while True:
            try:
                async with unit_of_work(self._sessionmaker) as session:
                    return await repository.route(session, numbers, self._clock())
            except Exception:
                failures += 1
                if self._stopping.is_set():
                    return None
                logger.warning("box consumer: routing failed (try %d)", failures, exc_info=True)
                await wait_or_stop(self._stopping, min(5.0, 0.1 * 2**failures))
