"""`Broker` inside the process: the embedded default, when no RabbitMQ is configured.

It follows the same topology rules as RabbitMQ: a message goes to the box named by its routing
key and nowhere else (publishing to an undeclared box fails, like a mandatory publish), a
rejected message or one delivered more than `delivery_limit` times goes to the dead letters, and
a message a consumer has not settled is delivered again. Messages live only as long as the
process: that is why the broker is `volatile`, and the outbox — not the broker — is what makes
the embedded hub durable (the relay republishes every unrouted row when it starts).
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hub.routing.broker import BatchHandler, BrokerUnavailable, RoutingMessage
from hub.routing.topology import Topology

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Message:
    body: bytes
    deliveries: int = 0


class _Box:
    def __init__(self) -> None:
        self.ready: deque[_Message] = deque()
        self.arrived = asyncio.Event()

    def put(self, message: _Message) -> None:
        self.ready.append(message)
        self.arrived.set()


class _InProcessDelivery:
    __slots__ = ("_box", "_broker", "_message", "_settled")

    def __init__(self, broker: "InProcessBroker", box: _Box, message: _Message) -> None:
        self._broker = broker
        self._box = box
        self._message = message
        self._settled = False

    @property
    def body(self) -> bytes:
        return self._message.body

    @property
    def settled(self) -> bool:
        return self._settled

    async def ack(self) -> None:
        self._settled = True

    async def reject(self) -> None:
        if not self._settled:
            self._settled = True
            self._broker.dead_letters.append(self._message.body)

    async def requeue(self) -> None:
        if not self._settled:
            self._settled = True
            self._broker.redeliver(self._box, self._message)


class InProcessBroker:
    volatile = True

    def __init__(self, topology: Topology | None = None) -> None:
        self.topology = topology or Topology()
        self._boxes: dict[str, _Box] = {}
        self._consumers: dict[str, asyncio.Task[None]] = {}
        self.dead_letters: list[bytes] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for box_code in list(self._consumers):
            await self.unsubscribe(box_code)

    async def declare_box(self, box_code: str) -> None:
        self._boxes.setdefault(box_code, _Box())

    async def publish(self, messages: Sequence[RoutingMessage], *, confirm_within: float) -> None:
        for message in messages:
            await self.declare_box(message.box_code)
        for message in messages:
            box = self._boxes.get(message.box_code)
            if box is None:  # pragma: no cover - declared just above
                raise BrokerUnavailable(f"no box {message.box_code}")
            box.put(_Message(message.encode()))

    def redeliver(self, box: _Box, message: _Message) -> None:
        if message.deliveries >= self.topology.delivery_limit:
            self.dead_letters.append(message.body)
        else:
            box.put(message)

    def depth(self, box_code: str) -> int:
        box = self._boxes.get(box_code)
        return len(box.ready) if box else 0

    async def subscribe(self, box_code: str, handler: BatchHandler, *, batch_size: int) -> None:
        if box_code in self._consumers:
            return
        await self.declare_box(box_code)
        self._consumers[box_code] = asyncio.create_task(
            self._consume(self._boxes[box_code], handler, batch_size), name=f"box-{box_code}"
        )

    async def unsubscribe(self, box_code: str) -> None:
        task = self._consumers.pop(box_code, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _consume(self, box: _Box, handler: BatchHandler, batch_size: int) -> None:
        while True:
            if not box.ready:
                box.arrived.clear()
                await box.arrived.wait()
            batch: list[_InProcessDelivery] = []
            while box.ready and len(batch) < batch_size:
                message = box.ready.popleft()
                message.deliveries += 1
                batch.append(_InProcessDelivery(self, box, message))
            try:
                await handler(batch)
            except asyncio.CancelledError:
                self._return_unsettled(box, batch)
                raise
            except Exception:
                logger.exception("in-process box consumer failed")
            self._return_unsettled(box, batch)

    def _return_unsettled(self, box: _Box, batch: Sequence[_InProcessDelivery]) -> None:
        for delivery in batch:
            if not delivery.settled:
                # Unsettled when the handler ended: delivered again, as RabbitMQ would.
                delivery._settled = True
                self.redeliver(box, delivery._message)
