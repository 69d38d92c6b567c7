"""`DeliveryControl` over the routing layer's tables (hub/routing): what an operator's retry,
pause, resume and re-route mean for the outbox, the push schedule and the circuits.

The push lanes read all of this from the database on every step, so an action taken in any hub
process reaches every worker process without a message: a retried push is due now, an open
circuit made half-open is probed at the next step, a paused box's lane stops at the next
registry refresh (`hub.routing.repository.push_destinations` leaves paused boxes out).
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.envelopes.models import EnvelopeRecord
from hub.errors import Conflict
from hub.nppos.domain import DeliveryMode
from hub.nppos.models import Nppo
from hub.operators.control import DestinationControl
from hub.operators.models import DeliveryPause
from hub.routing import outbox
from hub.routing.models import OutboxMessage, PushCircuit, PushDelivery, PushState


class RoutingControl:
    async def retry_now(self, session: AsyncSession, *, hub_delivery_number: str) -> None:
        now = utcnow()
        record = await _envelope(session, hub_delivery_number)
        if record.routed_at is None:
            # Not in its box yet: the outbox relay publishes it again at its next pass.
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.hub_delivery_number == hub_delivery_number)
                .values(published_at=None)
                .execution_options(synchronize_session=False)
            )
            return
        push = (
            await session.execute(
                select(PushDelivery)
                .where(PushDelivery.hub_delivery_number == hub_delivery_number)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if push is None:
            raise Conflict(
                f"{record.box_code} pulls its box: {hub_delivery_number} waits for its system "
                "to pull it, there is no push to retry",
                field="number",
            )
        if push.state != PushState.DUE:
            raise Conflict(
                f"the push of {hub_delivery_number} is already {push.state}", field="number"
            )
        if push.leased_until is not None and push.leased_until > now:
            raise Conflict(
                f"a push of {hub_delivery_number} is under way right now; wait for it",
                field="number",
            )
        push.due_at = now
        # An open circuit would hold the retry back; half-open lets the next step probe with it.
        await session.execute(
            update(PushCircuit)
            .where(PushCircuit.box_code == push.box_code, PushCircuit.opened_until > now)
            .values(opened_until=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.flush()

    async def requeue(self, session: AsyncSession, *, hub_delivery_number: str) -> None:
        """Route the envelope again, to the box it names now (after a re-route)."""
        now = utcnow()
        record = await _envelope(session, hub_delivery_number)
        leased = (
            await session.execute(
                select(PushDelivery.id).where(
                    PushDelivery.hub_delivery_number == hub_delivery_number,
                    PushDelivery.leased_until > now,
                )
            )
        ).first()
        if leased is not None:
            raise Conflict(
                f"a push of {hub_delivery_number} to its old box is under way; confirm again "
                "once it has ended",
                field="number",
            )
        # The old box's schedule goes: its lane must not push the envelope to the old receiver.
        await session.execute(
            delete(PushDelivery)
            .where(PushDelivery.hub_delivery_number == hub_delivery_number)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.hub_delivery_number == hub_delivery_number)
            .execution_options(synchronize_session=False)
        )
        record.routed_at = None
        await session.flush()
        outbox.enqueue(session, [record], now=now)
        await session.flush()

    async def pause(
        self, session: AsyncSession, *, destination: str, actor: str, reason: str
    ) -> None:
        nppo = await _push_destination(session, destination)
        if await session.get(DeliveryPause, nppo.code) is not None:
            raise Conflict(f"deliveries to {nppo.code} are already paused", field="destination")
        session.add(
            DeliveryPause(box_code=nppo.code, paused_by=actor, paused_at=utcnow(), reason=reason)
        )
        await session.flush()

    async def resume(self, session: AsyncSession, *, destination: str) -> None:
        code = destination.strip().upper()
        pause = await session.get(DeliveryPause, code)
        if pause is None:
            raise Conflict(f"deliveries to {code} are not paused", field="destination")
        await session.delete(pause)
        await session.flush()

    async def states(self, session: AsyncSession) -> Mapping[str, DestinationControl]:
        now = utcnow()
        push_boxes = (
            await session.execute(
                select(Nppo.code).where(
                    Nppo.delivery_mode == DeliveryMode.PUSH.value, Nppo.can_receive.is_(True)
                )
            )
        ).scalars()
        states: dict[str, DestinationControl] = {
            code: DestinationControl(paused=False, circuit="closed") for code in push_boxes
        }
        for circuit in (await session.execute(select(PushCircuit))).scalars():
            states[circuit.box_code] = DestinationControl(
                paused=False,
                circuit=_circuit_state(circuit.opened_until, now),
                last_failure=circuit.last_error if circuit.consecutive_failures else None,
            )
        for pause in (await session.execute(select(DeliveryPause))).scalars():
            current = states.get(pause.box_code)
            states[pause.box_code] = DestinationControl(
                paused=True,
                circuit=current.circuit if current else None,
                last_failure=current.last_failure if current else None,
            )
        return states


def _circuit_state(opened_until: datetime | None, now: datetime) -> str:
    if opened_until is None:
        return "closed"
    return "open" if opened_until > now else "half_open"


async def _envelope(session: AsyncSession, number: str) -> EnvelopeRecord:
    record = (
        await session.execute(
            select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number)
        )
    ).scalar_one()
    return record


async def _push_destination(session: AsyncSession, destination: str) -> Nppo:
    code = destination.strip().upper()
    nppo = (await session.execute(select(Nppo).where(Nppo.code == code))).scalar_one_or_none()
    if nppo is None or nppo.delivery_mode != DeliveryMode.PUSH.value:
        raise Conflict(
            f"{code} pulls its box; only push deliveries can be paused (its system decides "
            "when it pulls)",
            field="destination",
        )
    return nppo
