"""Operator actions on deliveries: retry, pause/resume, and the two-operator destructive ones.

Every action needs a reason and writes an audit entry in the same transaction. Marking an
envelope failed and re-routing it cannot be undone by the hub, so one operator *requests* them
(a pending action) and a different operator *confirms*; only the confirmation changes the
envelope. Services flush; the caller's unit of work commits.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.errors import Conflict, InvalidRequest, NotFound
from hub.nppos import repository as nppo_repository
from hub.observability.logs import envelope_context
from hub.operators import audit, repository
from hub.operators.audit import Actor, require_reason
from hub.operators.control import DeliveryControl
from hub.operators.exceptions import ActionNotPending, SecondOperatorRequired
from hub.operators.models import PendingAction

log = logging.getLogger(__name__)

MARK_FAILED = "mark_failed"
REROUTE = "reroute"
DESTRUCTIVE_ACTIONS = (MARK_FAILED, REROUTE)


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionResult:
    message: str


class OperatorActions:
    def __init__(self, *, control: DeliveryControl) -> None:
        self.control = control

    # ------------------------------------------------------------ immediate actions

    async def retry_now(
        self, session: AsyncSession, *, actor: Actor, number: str, reason: str
    ) -> ActionResult:
        reason = require_reason(reason)
        record = await self._waiting(session, number)
        with envelope_context(record.hub_delivery_number):
            await self.control.retry_now(session, hub_delivery_number=record.hub_delivery_number)
            _event(session, record, "operator_retry", actor=actor, detail=reason)
            await audit.record(
                session,
                actor=actor,
                action="retry",
                target=record.hub_delivery_number,
                reason=reason,
                detail=f"box {record.box_code}",
            )
            log.info("operator %s asked to retry delivery now", actor.username)
        return ActionResult(message=f"retry of {record.hub_delivery_number} requested")

    async def pause(
        self, session: AsyncSession, *, actor: Actor, destination: str, reason: str
    ) -> ActionResult:
        reason = require_reason(reason)
        code = await self._destination(session, destination)
        await self.control.pause(session, destination=code, actor=actor.username, reason=reason)
        await audit.record(session, actor=actor, action="pause", target=code, reason=reason)
        log.info("operator %s paused deliveries to %s", actor.username, code)
        return ActionResult(message=f"deliveries to {code} paused")

    async def resume(
        self, session: AsyncSession, *, actor: Actor, destination: str, reason: str
    ) -> ActionResult:
        reason = require_reason(reason)
        code = await self._destination(session, destination)
        await self.control.resume(session, destination=code)
        await audit.record(session, actor=actor, action="resume", target=code, reason=reason)
        log.info("operator %s resumed deliveries to %s", actor.username, code)
        return ActionResult(message=f"deliveries to {code} resumed")

    # ------------------------------------------------------------ two-operator actions

    async def request_mark_failed(
        self, session: AsyncSession, *, actor: Actor, number: str, reason: str
    ) -> PendingAction:
        reason = require_reason(reason)
        record = await self._waiting(session, number)
        return await self._request(
            session, actor=actor, action=MARK_FAILED, record=record, argument=None, reason=reason
        )

    async def request_reroute(
        self, session: AsyncSession, *, actor: Actor, number: str, delegate: str, reason: str
    ) -> PendingAction:
        reason = require_reason(reason)
        record = await self._waiting(session, number)
        code = await self._check_delegate(session, record, delegate)
        return await self._request(
            session, actor=actor, action=REROUTE, record=record, argument=code, reason=reason
        )

    async def confirm(
        self, session: AsyncSession, *, actor: Actor, action_id: int, reason: str
    ) -> ActionResult:
        """Carry out a pending action requested by another operator."""
        reason = require_reason(reason)
        pending = await self._pending(session, action_id)
        if pending.requested_by == actor.username:
            raise SecondOperatorRequired(
                f"action {pending.id} was requested by {actor.username}; "
                "a different operator must confirm it",
                field="action_id",
            )
        record = await repository.by_number_for_update(session, pending.envelope_number)
        if record is None:
            raise NotFound(f"no envelope {pending.envelope_number}", field="number")
        with envelope_context(record.hub_delivery_number):
            _require_waiting(record)
            if pending.action == MARK_FAILED:
                message = await self._mark_failed(session, record, pending=pending, actor=actor)
            else:
                assert pending.argument is not None
                message = await self._reroute(
                    session, record, delegate=pending.argument, pending=pending, actor=actor
                )
            pending.state = "confirmed"
            pending.decided_by = actor.username
            pending.decided_at = utcnow()
            pending.decision_reason = reason
            await audit.record(
                session,
                actor=actor,
                action=f"confirm_{pending.action}",
                target=record.hub_delivery_number,
                reason=reason,
                outcome="confirmed",
                detail=f"action {pending.id} requested by {pending.requested_by}: {message}",
            )
            log.info("operator %s confirmed action %s: %s", actor.username, pending.id, message)
        return ActionResult(message=message)

    async def cancel(
        self, session: AsyncSession, *, actor: Actor, action_id: int, reason: str
    ) -> ActionResult:
        """Withdraw a pending action (any operator may, the requester included)."""
        reason = require_reason(reason)
        pending = await self._pending(session, action_id)
        pending.state = "cancelled"
        pending.decided_by = actor.username
        pending.decided_at = utcnow()
        pending.decision_reason = reason
        await audit.record(
            session,
            actor=actor,
            action=f"cancel_{pending.action}",
            target=pending.envelope_number,
            reason=reason,
            outcome="cancelled",
            detail=f"action {pending.id} requested by {pending.requested_by}",
        )
        return ActionResult(message=f"action {pending.id} cancelled")

    async def list_pending(self, session: AsyncSession) -> Sequence[PendingAction]:
        result = await session.execute(
            select(PendingAction).where(PendingAction.state == "pending").order_by(PendingAction.id)
        )
        return result.scalars().all()

    async def pending_for(self, session: AsyncSession, number: str) -> Sequence[PendingAction]:
        result = await session.execute(
            select(PendingAction)
            .where(PendingAction.envelope_number == number)
            .order_by(PendingAction.id.desc())
        )
        return result.scalars().all()

    # ------------------------------------------------------------ the changes themselves

    async def _mark_failed(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        *,
        pending: PendingAction,
        actor: Actor,
    ) -> str:
        now = utcnow()
        record.tracking_state = TrackingState.FAILED_DELIVERY.value
        record.error_message = f"marked failed by the hub operators: {pending.reason}"
        record.updated_at = now
        record.finished_at = now
        _event(
            session,
            record,
            "operator_marked_failed",
            actor=actor,
            detail=f"requested by {pending.requested_by}: {pending.reason}",
        )
        await session.flush()
        return f"{record.hub_delivery_number} marked FailedDelivery"

    async def _reroute(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        *,
        delegate: str,
        pending: PendingAction,
        actor: Actor,
    ) -> str:
        code = await self._check_delegate(session, record, delegate)
        previous = record.box_code
        record.box_code = code
        record.updated_at = utcnow()
        _event(
            session,
            record,
            "operator_rerouted",
            actor=actor,
            detail=f"box {previous} -> {code}; requested by {pending.requested_by}: "
            f"{pending.reason}",
        )
        await session.flush()
        await self.control.requeue(session, hub_delivery_number=record.hub_delivery_number)
        return f"{record.hub_delivery_number} re-routed from {previous} to {code}"

    # ------------------------------------------------------------ checks

    async def _request(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        action: str,
        record: EnvelopeRecord,
        argument: str | None,
        reason: str,
    ) -> PendingAction:
        pending = PendingAction(
            action=action,
            envelope_number=record.hub_delivery_number,
            argument=argument,
            reason=reason,
            requested_by=actor.username,
            requested_at=utcnow(),
            state="pending",
        )
        session.add(pending)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=f"request_{action}",
            target=record.hub_delivery_number,
            reason=reason,
            outcome="requested",
            detail=f"action {pending.id}" + (f": to {argument}" if argument else ""),
        )
        with envelope_context(record.hub_delivery_number):
            log.info("operator %s requested %s (action %s)", actor.username, action, pending.id)
        return pending

    async def _waiting(self, session: AsyncSession, number: str) -> EnvelopeRecord:
        record = await repository.by_number(session, number)
        if record is None:
            raise NotFound(f"no envelope {number.strip()}", field="number")
        _require_waiting(record)
        return record

    async def _pending(self, session: AsyncSession, action_id: int) -> PendingAction:
        pending = await session.get(PendingAction, action_id, with_for_update=True)
        if pending is None:
            raise NotFound(f"no pending action {action_id}", field="action_id")
        if pending.state != "pending":
            raise ActionNotPending(
                f"action {action_id} is already {pending.state} (by {pending.decided_by})",
                field="action_id",
            )
        return pending

    async def _destination(self, session: AsyncSession, destination: str) -> str:
        code = destination.strip().upper()
        nppo = await nppo_repository.get_by_code(session, code)
        if nppo is None or not nppo.can_receive:
            raise NotFound(f"no destination {code} on this hub", field="destination")
        return code

    async def _check_delegate(
        self, session: AsyncSession, record: EnvelopeRecord, delegate: str
    ) -> str:
        code = delegate.strip().upper()
        target = await nppo_repository.get_by_code(session, code)
        if target is None or not target.active or not target.can_receive:
            raise InvalidRequest(
                f"{code or '(empty)'} is not a registered participant that receives",
                field="delegate",
            )
        if not target.is_channel:
            raise InvalidRequest(
                f"{code} is a country's NPPO, not a delegate channel", field="delegate"
            )
        if code == record.box_code:
            raise InvalidRequest(
                f"{record.hub_delivery_number} already waits in {code}", field="delegate"
            )
        return code


def _require_waiting(record: EnvelopeRecord) -> None:
    if record.tracking_state != TrackingState.PENDING_DELIVERY.value:
        raise Conflict(
            f"envelope {record.hub_delivery_number} is {record.tracking_state}; only an envelope "
            "still waiting for delivery can be acted on",
            field="number",
        )


def _event(
    session: AsyncSession, record: EnvelopeRecord, event: str, *, actor: Actor, detail: str
) -> None:
    session.add(
        EnvelopeEvent(
            envelope_id=record.id,
            at=utcnow(),
            event=event,
            tracking_state=record.tracking_state,
            actor=actor.event_actor,
            detail=detail,
        )
    )
