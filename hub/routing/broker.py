"""The `Broker` protocol the routing code talks to, and the routing message it carries.

Two implementations: `AmqpBroker` (RabbitMQ, hub/routing/amqp.py) and `InProcessBroker`
(hub/routing/memory.py, the embedded default). Both route by box code through the names and
rules of `Topology`, confirm publications, and redeliver what a consumer did not acknowledge.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.routing.topology import Topology


class BrokerUnavailable(Exception):
    """The broker did not confirm a publication (down, restarting, refused): nothing is marked
    published, the relay tries again."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RoutingMessage:
    """ "Envelope `hub_delivery_number` belongs in box `box_code`." The content stays in the
    database: a message is ~100 bytes, so 100,000 waiting envelopes cost the broker ~10 MB."""

    hub_delivery_number: str
    box_code: str

    def encode(self) -> bytes:
        return json.dumps(
            {"n": self.hub_delivery_number, "box": self.box_code}, separators=(",", ":")
        ).encode()

    @classmethod
    def decode(cls, body: bytes) -> "RoutingMessage":
        """Raises ValueError for anything that is not a routing message (a poison message)."""
        try:
            data = json.loads(body)
            number, box = data["n"], data["box"]
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a routing message: {body[:80]!r}") from exc
        if not isinstance(number, str) or not isinstance(box, str) or not number or not box:
            raise ValueError(f"not a routing message: {body[:80]!r}")
        return cls(hub_delivery_number=number, box_code=box)


class Delivery(Protocol):
    """One message handed to a consumer; exactly one of `ack`/`reject` settles it."""

    @property
    def body(self) -> bytes: ...

    async def ack(self) -> None: ...

    async def reject(self) -> None:
        """Refuse it for good: it goes to the dead-letter queue."""
        ...

    async def requeue(self) -> None:
        """Give it back for another try (counts towards the delivery limit)."""
        ...


#: Called with the deliveries that arrived together (at most the consumer's batch size).
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


class Broker(Protocol):
    topology: Topology

    #: True when messages do not outlive the process (the in-process broker): the relay then
    #: republishes every unrouted outbox row when it starts.
    volatile: bool

    async def start(self) -> None:
        """Connect (and keep reconnecting) in the background; declare the topology each time."""
        ...

    async def close(self) -> None: ...

    async def declare_box(self, box_code: str) -> None:
        """Make sure the box queue exists and is bound (idempotent)."""
        ...

    async def publish(self, messages: Sequence[RoutingMessage], *, confirm_within: float) -> None:
        """Publish to each message's box and wait for the broker's confirms.

        Raises `BrokerUnavailable` unless every message was confirmed; some may have been
        routed anyway (consumers are idempotent).
        """
        ...

    async def subscribe(self, box_code: str, handler: BatchHandler, *, batch_size: int) -> None:
        """Consume the box (again after every reconnection) until `close`."""
        ...

    async def unsubscribe(self, box_code: str) -> None: ...
