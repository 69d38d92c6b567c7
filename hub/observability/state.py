"""Read the hub's state from the database: the numbers behind gauges and the operator console.

The database is the source of truth (design principle 2), so "how many envelopes wait for BB"
is a query, never a counter kept in one process's memory that another process cannot see.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeRecord
from hub.nppos.models import Nppo
from hub.routing.models import OutboxMessage, PushDelivery

PENDING = TrackingState.PENDING_DELIVERY.value
DELIVERED_STATES = (
    TrackingState.DELIVERED.value,
    TrackingState.DELIVERED_WITH_WARNINGS.value,
)
FAILED_STATES = (
    TrackingState.FAILED_DELIVERY.value,
    TrackingState.DELIVERED_NOT_READABLE.value,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class BoxWaiting:
    box_code: str
    waiting: int
    oldest_created_at: datetime

    def oldest_age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_created_at).total_seconds())


async def waiting_by_box(session: AsyncSession) -> dict[str, BoxWaiting]:
    """Per box: how many envelopes wait, and since when the oldest does."""
    result = await session.execute(
        select(EnvelopeRecord.box_code, func.count(), func.min(EnvelopeRecord.created_at))
        .where(EnvelopeRecord.tracking_state == PENDING)
        .group_by(EnvelopeRecord.box_code)
    )
    boxes: dict[str, BoxWaiting] = {}
    for box, count, oldest in result:
        boxes[box] = BoxWaiting(box_code=box, waiting=count, oldest_created_at=_as_utc(oldest))
    return boxes


async def finished_by_box_since(
    session: AsyncSession, *, since: datetime, states: Sequence[str]
) -> dict[str, int]:
    result = await session.execute(
        select(EnvelopeRecord.box_code, func.count())
        .where(EnvelopeRecord.finished_at >= since, EnvelopeRecord.tracking_state.in_(states))
        .group_by(EnvelopeRecord.box_code)
    )
    return {box: count for box, count in result}


async def finished_by_state_since(session: AsyncSession, *, since: datetime) -> dict[str, int]:
    """Envelopes that reached each final state since then (not all time: counting every
    envelope ever stored would scan the whole table at every scrape)."""
    result = await session.execute(
        select(EnvelopeRecord.tracking_state, func.count())
        .where(EnvelopeRecord.finished_at >= since)
        .group_by(EnvelopeRecord.tracking_state)
    )
    return {state: count for state, count in result}


async def receiving_nppos(session: AsyncSession) -> Sequence[Nppo]:
    """Every registered participant that can receive: each has a box."""
    result = await session.execute(
        select(Nppo).where(Nppo.can_receive.is_(True)).order_by(Nppo.code)
    )
    return result.scalars().all()


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxBacklog:
    #: Envelopes accepted but not yet recorded in their box by a box consumer.
    size: int
    oldest_created_at: datetime | None

    def lag_seconds(self, now: datetime) -> float:
        if self.oldest_created_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_created_at).total_seconds())


async def outbox_backlog(session: AsyncSession) -> OutboxBacklog:
    size, oldest = (
        await session.execute(select(func.count(), func.min(OutboxMessage.created_at)))
    ).one()
    return OutboxBacklog(size=size, oldest_created_at=_as_utc(oldest) if oldest else None)


async def push_schedule(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(box, state) -> number of push deliveries: due (waiting or retrying), done, failed."""
    result = await session.execute(
        select(PushDelivery.box_code, PushDelivery.state, func.count()).group_by(
            PushDelivery.box_code, PushDelivery.state
        )
    )
    return {(box, push_state): count for box, push_state, count in result}


def hour_before(now: datetime) -> datetime:
    return now - timedelta(hours=1)


def _as_utc(value: datetime) -> datetime:
    # func.min() bypasses the UtcDateTime column type on SQLite (a naive value, or even a
    # string); the stored values are UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
