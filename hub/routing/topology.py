"""Every exchange, queue, binding and dead-letter route of the hub, declared in one place.

```
 relay ──publish(routing key = box code, mandatory, confirmed)──> {prefix}.route (direct)
                                                                     │ binding: key = code
                                                                     v
                                    {prefix}.box.<CODE>  quorum queue, one per destination box
                                     │  rejected, or delivered more than `delivery_limit` times
                                     v
                  {prefix}.dead (fanout) ──> {prefix}.dead  quorum queue, for operators
```

Retries of push delivery are scheduled in the database (`push_deliveries.due_at`), not with TTL'd
delay queues: the schedule, the per-destination circuit and the give-up limit are then one query
away for every worker, and a backlog for a dead destination costs the broker nothing.

Declarations are idempotent (same name, same arguments), so every process declares at start-up
and after every reconnection; consumers and the relay never declare anything themselves.
"""

from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractQueue, ExchangeType


@dataclass(frozen=True, kw_only=True, slots=True)
class Topology:
    prefix: str = "ephyto"
    #: Deliveries of one message before the broker dead-letters it (quorum queues count them):
    #: a message that keeps crashing its consumer stops circulating.
    delivery_limit: int = 20
    #: Dead letters kept for operators; the oldest are dropped beyond this.
    dead_letter_max_length: int = 100_000

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.route"

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def dead_queue(self) -> str:
        return f"{self.prefix}.dead"

    def box_queue(self, box_code: str) -> str:
        return f"{self.prefix}.box.{box_code}"

    def box_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dead_exchange,
            "x-delivery-limit": self.delivery_limit,
            # At-least-once dead-lettering (RabbitMQ >= 3.10): a dead letter is removed from
            # the box only once the dead-letter queue confirmed it. It needs reject-publish.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def dead_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-max-length": self.dead_letter_max_length,
            "x-overflow": "drop-head",
        }

    async def declare(self, channel: AbstractChannel) -> None:
        """The routing exchange and the dead-letter route."""
        await channel.declare_exchange(self.exchange, ExchangeType.DIRECT, durable=True)
        dead = await channel.declare_exchange(self.dead_exchange, ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(
            self.dead_queue, durable=True, arguments=self.dead_arguments()
        )
        await queue.bind(dead)

    async def declare_box(self, channel: AbstractChannel, box_code: str) -> AbstractQueue:
        queue = await channel.declare_queue(
            self.box_queue(box_code), durable=True, arguments=self.box_arguments()
        )
        await queue.bind(self.exchange, routing_key=box_code)
        return queue
