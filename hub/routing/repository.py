"""Every SQL statement of routing: the outbox, routing into boxes, the push schedule, circuits.

Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several relays and push workers share the
work without waiting on each other or taking the same row. SQLite (the embedded default, one
process) ignores the locking clause; each claim there is one statement, atomic on its own.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeRecord
from hub.nppos.domain import DeliveryMode
from hub.nppos.models import Nppo
from hub.operators.models import DeliveryPause
from hub.routing.models import OutboxMessage, PushCircuit, PushDelivery, PushState

PENDING = TrackingState.PENDING_DELIVERY.value


# ------------------------------------------------------------------------------------ outbox


def add_to_outbox(session: AsyncSession, records: Iterable[EnvelopeRecord], now: datetime) -> None:
    session.add_all(
        OutboxMessage(
            envelope_id=record.id,
            hub_delivery_number=record.hub_delivery_number,
            box_code=record.box_code,
            created_at=now,
            published_at=None,
            publish_count=0,
        )
        for record in records
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxRow:
    id: int
    hub_delivery_number: str
    box_code: str


async def claim_outbox(
    session: AsyncSession, *, limit: int, stale_before: datetime | None
) -> list[OutboxRow]:
    """Rows never published, then (unless `stale_before` is None) rows published before
    `stale_before` and still not routed; locked until the caller's transaction ends.

    Two queries, not one with OR, each with an index that starts where it reads: the partial
    `ix_routing_outbox_unpublished (id) WHERE published_at IS NULL`, and
    `ix_routing_outbox_published (published_at, id)`. With the OR, PostgreSQL walked the primary
    key past every published row still waiting for its consumer (100 ms per claim with 33,000).
    """
    columns = (OutboxMessage.id, OutboxMessage.hub_delivery_number, OutboxMessage.box_code)
    never = (
        select(*columns)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = [
        OutboxRow(id=r[0], hub_delivery_number=r[1], box_code=r[2])
        for r in await session.execute(never)
    ]
    if stale_before is not None and len(rows) < limit:
        stale = (
            select(*columns)
            .where(OutboxMessage.published_at < stale_before)
            .order_by(OutboxMessage.published_at, OutboxMessage.id)
            .limit(limit - len(rows))
            .with_for_update(skip_locked=True)
        )
        rows += [
            OutboxRow(id=r[0], hub_delivery_number=r[1], box_code=r[2])
            for r in await session.execute(stale)
        ]
    return rows


async def mark_published(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(published_at=now, publish_count=OutboxMessage.publish_count + 1)
    )


async def forget_publications(session: AsyncSession) -> int:
    """Treat every unrouted row as never published (the in-process broker lost its messages)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.published_at.is_not(None))
        .values(published_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def outbox_size(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(OutboxMessage))
    return int(result.scalar_one())


# ------------------------------------------------------------------------------------ routing


@dataclass(frozen=True, kw_only=True, slots=True)
class Routed:
    #: Numbers that name an envelope (the others are unknown: dead letters).
    known: frozenset[str]
    #: Push boxes that got new work.
    push_boxes: frozenset[str]


async def route(session: AsyncSession, numbers: Sequence[str], now: datetime) -> Routed:
    """Record envelopes in their boxes; schedule a push for push boxes; close their outbox rows.

    Idempotent: a number seen again changes nothing (`routed_at` is set once, the push row is
    keyed on the envelope, the outbox row is already gone). Every statement is driven by the
    batch's own numbers or ids, never by a box: a box holding 100,000 envelopes costs a batch
    nothing (a join on the box let PostgreSQL scan the whole box, 7 s per batch).
    """
    found = (
        await session.execute(
            select(
                EnvelopeRecord.id,
                EnvelopeRecord.hub_delivery_number,
                EnvelopeRecord.box_code,
                EnvelopeRecord.tracking_state,
            ).where(EnvelopeRecord.hub_delivery_number.in_(numbers))
        )
    ).all()
    known = frozenset(row[1] for row in found)
    if not known:
        return Routed(known=known, push_boxes=frozenset())
    await session.execute(
        update(EnvelopeRecord)
        .where(EnvelopeRecord.id.in_([row[0] for row in found]), EnvelopeRecord.routed_at.is_(None))
        .values(routed_at=now)
        .execution_options(synchronize_session=False)
    )
    pending = [row for row in found if row[3] == PENDING]
    push_codes: frozenset[str] = frozenset()
    if pending:
        push_codes = frozenset(
            (
                await session.execute(
                    select(Nppo.code).where(
                        Nppo.code.in_({row[2] for row in pending}),
                        Nppo.delivery_mode == DeliveryMode.PUSH.value,
                        Nppo.push_url.is_not(None),
                    )
                )
            ).scalars()
        )
    to_push = [
        {
            "envelope_id": row[0],
            "hub_delivery_number": row[1],
            "box_code": row[2],
            "state": PushState.DUE,
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        for row in pending
        if row[2] in push_codes
    ]
    push_boxes: frozenset[str] = frozenset()
    if to_push:
        dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        inserted = await session.execute(
            insert(PushDelivery)
            .values(to_push)
            .on_conflict_do_nothing()
            .returning(PushDelivery.box_code)
        )
        push_boxes = frozenset(inserted.scalars())
    await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.hub_delivery_number.in_(known))
        .execution_options(synchronize_session=False)
    )
    return Routed(known=known, push_boxes=push_boxes)


async def receiving_boxes(session: AsyncSession) -> list[str]:
    """Every box that can receive: the queues a worker consumes."""
    rows = await session.execute(
        select(Nppo.code)
        .where(Nppo.active.is_(True), Nppo.can_receive.is_(True))
        .order_by(Nppo.code)
    )
    return list(rows.scalars())


async def push_destinations(session: AsyncSession) -> dict[str, str]:
    """Push boxes and their receiver URLs; a box operators paused has no lane until resumed."""
    paused = select(DeliveryPause.box_code).where(DeliveryPause.box_code == Nppo.code)
    rows = await session.execute(
        select(Nppo.code, Nppo.push_url).where(
            Nppo.active.is_(True),
            Nppo.can_receive.is_(True),
            Nppo.delivery_mode == DeliveryMode.PUSH.value,
            Nppo.push_url.is_not(None),
            ~paused.exists(),
        )
    )
    return {code: url for code, url in rows if url}


# ------------------------------------------------------------------------------------ push


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimedPush:
    id: int
    envelope_id: int
    hub_delivery_number: str
    attempts: int
    created_at: datetime


async def claim_pushes(
    session: AsyncSession,
    *,
    box_code: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
    token: str,
) -> list[ClaimedPush]:
    due = (
        select(PushDelivery.id)
        .where(
            PushDelivery.box_code == box_code,
            PushDelivery.state == PushState.DUE,
            PushDelivery.due_at <= now,
            or_(PushDelivery.leased_until.is_(None), PushDelivery.leased_until < now),
        )
        .order_by(PushDelivery.due_at, PushDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.execute(
        update(PushDelivery)
        .where(PushDelivery.id.in_(due))
        .values(leased_until=lease_until, lease_token=token)
        .returning(
            PushDelivery.id,
            PushDelivery.envelope_id,
            PushDelivery.hub_delivery_number,
            PushDelivery.attempts,
            PushDelivery.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = [
        ClaimedPush(
            id=r[0], envelope_id=r[1], hub_delivery_number=r[2], attempts=r[3], created_at=r[4]
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda c: c.id)


async def next_due(session: AsyncSession, box_code: str) -> datetime | None:
    result = await session.execute(
        select(func.min(PushDelivery.due_at)).where(
            PushDelivery.box_code == box_code, PushDelivery.state == PushState.DUE
        )
    )
    return result.scalar_one_or_none()


async def finish_push(
    session: AsyncSession,
    *,
    push_id: int,
    token: str,
    state: str,
    attempts: int,
    error: str | None,
    now: datetime,
) -> bool:
    """Close a claimed row (done or failed); False if the lease was lost to another worker."""
    result = await session.execute(
        update(PushDelivery)
        .where(PushDelivery.id == push_id, PushDelivery.lease_token == token)
        .values(
            state=state,
            attempts=attempts,
            last_error=error,
            finished_at=now,
            leased_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def retry_push_later(
    session: AsyncSession,
    *,
    push_id: int,
    token: str,
    attempts: int,
    due_at: datetime,
    error: str | None,
) -> bool:
    result = await session.execute(
        update(PushDelivery)
        .where(PushDelivery.id == push_id, PushDelivery.lease_token == token)
        .values(
            attempts=attempts, due_at=due_at, last_error=error, leased_until=None, lease_token=None
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_pushes(session: AsyncSession, *, token: str) -> None:
    """Give back rows claimed but not attempted (the circuit opened meanwhile)."""
    await session.execute(
        update(PushDelivery)
        .where(PushDelivery.lease_token == token, PushDelivery.state == PushState.DUE)
        .values(leased_until=None, lease_token=None)
        .execution_options(synchronize_session=False)
    )


async def expired_pushes(
    session: AsyncSession, *, box_code: str, created_before: datetime, limit: int
) -> list[ClaimedPush]:
    """Due rows older than the give-up age, not leased: failed without another attempt."""
    rows = await session.execute(
        select(
            PushDelivery.id,
            PushDelivery.envelope_id,
            PushDelivery.hub_delivery_number,
            PushDelivery.attempts,
            PushDelivery.created_at,
        )
        .where(
            PushDelivery.box_code == box_code,
            PushDelivery.state == PushState.DUE,
            PushDelivery.created_at < created_before,
            PushDelivery.lease_token.is_(None),
        )
        .order_by(PushDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        ClaimedPush(
            id=r[0], envelope_id=r[1], hub_delivery_number=r[2], attempts=r[3], created_at=r[4]
        )
        for r in rows
    ]


async def fail_expired(
    session: AsyncSession, *, ids: Sequence[int], error: str, now: datetime
) -> None:
    await session.execute(
        update(PushDelivery)
        .where(PushDelivery.id.in_(ids))
        .values(state=PushState.FAILED, last_error=error, finished_at=now)
        .execution_options(synchronize_session=False)
    )


async def push_counts(session: AsyncSession, box_code: str) -> dict[str, int]:
    rows = await session.execute(
        select(PushDelivery.state, func.count())
        .where(PushDelivery.box_code == box_code)
        .group_by(PushDelivery.state)
    )
    return {state: count for state, count in rows}


# ------------------------------------------------------------------------------------ circuits


async def circuit(session: AsyncSession, box_code: str) -> PushCircuit | None:
    return await session.get(PushCircuit, box_code, populate_existing=True)


async def take_probe(
    session: AsyncSession, *, box_code: str, now: datetime, probe_until: datetime
) -> bool:
    """Half-open: the one caller that moves `opened_until` forward gets to send the probe."""
    result = await session.execute(
        update(PushCircuit)
        .where(
            PushCircuit.box_code == box_code,
            PushCircuit.opened_until.is_not(None),
            PushCircuit.opened_until <= now,
        )
        .values(opened_until=probe_until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_success(session: AsyncSession, *, box_code: str, now: datetime) -> None:
    await session.execute(
        update(PushCircuit)
        .where(
            PushCircuit.box_code == box_code,
            or_(PushCircuit.consecutive_failures > 0, PushCircuit.opened_until.is_not(None)),
        )
        .values(consecutive_failures=0, opened_until=None, times_opened=0, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def record_failure(
    session: AsyncSession,
    *,
    box_code: str,
    error: str,
    now: datetime,
    threshold: int,
    open_for: Callable[[int], timedelta],
) -> datetime | None:
    """Count a failure; open (or re-open) the circuit at the threshold. Returns when it
    reopens, if it is open now."""
    row = await session.get(PushCircuit, box_code, with_for_update=True, populate_existing=True)
    if row is None:
        row = PushCircuit(
            box_code=box_code,
            consecutive_failures=0,
            opened_until=None,
            times_opened=0,
            updated_at=now,
        )
        session.add(row)
    row.consecutive_failures += 1
    row.last_error = error
    row.updated_at = now
    probing = row.opened_until is not None  # a failed probe re-opens at once
    if probing or row.consecutive_failures >= threshold:
        row.times_opened += 1
        row.opened_until = now + open_for(row.times_opened)
    await session.flush()
    return row.opened_until
