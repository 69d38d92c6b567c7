"""What operators ask of the routing layer: retry a push now, pause or resume a destination,
re-route an envelope, and the state of each destination's push circuit.

The console and CLI depend on this small interface; `hub.operators.routing_control` implements
it over the routing layer's tables.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, kw_only=True, slots=True)
class DestinationControl:
    paused: bool
    #: "closed", "open" or "half_open"; None for a box that is not pushed to.
    circuit: str | None
    #: The last push failure the routing layer saw, with its reason.
    last_failure: str | None = None


class DeliveryControl(Protocol):
    async def retry_now(self, session: AsyncSession, *, hub_delivery_number: str) -> None:
        """Deliver this waiting envelope again at once, skipping its back-off."""

    async def requeue(self, session: AsyncSession, *, hub_delivery_number: str) -> None:
        """Deliver this envelope from the box it names now (after a re-route)."""

    async def pause(
        self, session: AsyncSession, *, destination: str, actor: str, reason: str
    ) -> None: ...

    async def resume(self, session: AsyncSession, *, destination: str) -> None: ...

    async def states(self, session: AsyncSession) -> Mapping[str, DestinationControl]: ...
