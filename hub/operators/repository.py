"""The operator console's reads of envelopes and their history (every SQL statement here)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord
from hub.observability.state import FAILED_STATES, PENDING
from hub.routing.models import PushDelivery, PushState
from hub.signing.models import EvidenceEntry


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchCriteria:
    number: str | None = None
    certificate_number: str | None = None
    from_code: str | None = None
    to_code: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    box_code: str | None = None
    limit: int = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    at: datetime
    hub_delivery_number: str
    event: str
    actor: str
    detail: str | None


async def search(session: AsyncSession, criteria: SearchCriteria) -> Sequence[EnvelopeRecord]:
    """Newest first. Certificate numbers match on a case-insensitive substring, the rest exactly."""
    query = select(EnvelopeRecord)
    if criteria.number:
        query = query.where(EnvelopeRecord.hub_delivery_number == criteria.number.strip())
    if criteria.certificate_number:
        pattern = f"%{_escape_like(criteria.certificate_number.strip())}%"
        query = query.where(EnvelopeRecord.nppo_certificate_number.ilike(pattern, escape="\\"))
    if criteria.from_code:
        query = query.where(EnvelopeRecord.from_code == criteria.from_code.strip().upper())
    if criteria.to_code:
        query = query.where(EnvelopeRecord.to_code == criteria.to_code.strip().upper())
    if criteria.box_code:
        query = query.where(EnvelopeRecord.box_code == criteria.box_code.strip().upper())
    if criteria.state:
        query = query.where(EnvelopeRecord.tracking_state == criteria.state)
    if criteria.since:
        query = query.where(EnvelopeRecord.created_at >= criteria.since)
    if criteria.until:
        query = query.where(EnvelopeRecord.created_at < criteria.until)
    query = query.order_by(EnvelopeRecord.id.desc()).limit(criteria.limit)
    return (await session.execute(query)).scalars().all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def waiting_in_box(
    session: AsyncSession, *, box_code: str, limit: int = 100
) -> Sequence[EnvelopeRecord]:
    """Oldest first: the head of the queue is what an operator looks at."""
    result = await session.execute(
        select(EnvelopeRecord)
        .where(EnvelopeRecord.box_code == box_code, EnvelopeRecord.tracking_state == PENDING)
        .order_by(EnvelopeRecord.id)
        .limit(limit)
    )
    return result.scalars().all()


async def recent_failures(
    session: AsyncSession, *, box_code: str | None = None, limit: int = 20
) -> list[Failure]:
    """Failure events, newest first: refused acknowledgements, failed pushes, operator
    decisions. Any event whose name says it failed counts, so the routing layer's push events
    show here as soon as it writes them."""
    query = (
        select(EnvelopeEvent, EnvelopeRecord.hub_delivery_number)
        .join(EnvelopeRecord, EnvelopeEvent.envelope_id == EnvelopeRecord.id)
        .where(
            or_(
                EnvelopeEvent.tracking_state.in_(FAILED_STATES),
                EnvelopeEvent.event.like("%fail%"),
            )
        )
        .order_by(EnvelopeEvent.id.desc())
        .limit(limit)
    )
    if box_code:
        query = query.where(EnvelopeRecord.box_code == box_code)
    rows = await session.execute(query)
    return [
        Failure(
            at=event.at,
            hub_delivery_number=number,
            event=event.event,
            actor=event.actor,
            detail=event.detail,
        )
        for event, number in rows
    ]


async def by_number(session: AsyncSession, number: str) -> EnvelopeRecord | None:
    result = await session.execute(
        select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number.strip())
    )
    return result.scalar_one_or_none()


async def by_number_for_update(session: AsyncSession, number: str) -> EnvelopeRecord | None:
    result = await session.execute(
        select(EnvelopeRecord)
        .where(EnvelopeRecord.hub_delivery_number == number.strip())
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def history(session: AsyncSession, envelope_id: int) -> Sequence[EnvelopeEvent]:
    result = await session.execute(
        select(EnvelopeEvent)
        .where(EnvelopeEvent.envelope_id == envelope_id)
        .order_by(EnvelopeEvent.id)
    )
    return result.scalars().all()


async def content_summary(session: AsyncSession, content_id: int) -> tuple[str, int]:
    """(sha256, size) of the stored content: the evidence of what exactly was accepted."""
    result = await session.execute(
        select(EnvelopeContent.sha256, EnvelopeContent.size).where(EnvelopeContent.id == content_id)
    )
    sha, size = result.one()
    return sha, size


async def related(session: AsyncSession, record: EnvelopeRecord) -> Sequence[EnvelopeRecord]:
    """The original and every copy of the same submission, except the record itself."""
    root = record.original_id or record.id
    result = await session.execute(
        select(EnvelopeRecord)
        .where(
            or_(EnvelopeRecord.id == root, EnvelopeRecord.original_id == root),
            EnvelopeRecord.id != record.id,
        )
        .order_by(EnvelopeRecord.id)
    )
    return result.scalars().all()


@dataclass(frozen=True, kw_only=True, slots=True)
class PushStatus:
    """The routing layer's push schedule for one envelope: why it has not arrived yet."""

    hub_delivery_number: str
    state: str
    attempts: int
    due_at: datetime
    last_error: str | None
    in_flight: bool


async def push_status(session: AsyncSession, number: str, *, now: datetime) -> PushStatus | None:
    row = (
        await session.execute(
            select(PushDelivery).where(PushDelivery.hub_delivery_number == number)
        )
    ).scalar_one_or_none()
    return _push_status(row, now) if row is not None else None


async def retrying_pushes(
    session: AsyncSession, *, box_code: str, now: datetime, limit: int = 50
) -> list[PushStatus]:
    """Pushes to this box that failed at least once and are still scheduled, oldest first."""
    rows = await session.execute(
        select(PushDelivery)
        .where(
            PushDelivery.box_code == box_code,
            PushDelivery.state == PushState.DUE,
            PushDelivery.attempts > 0,
        )
        .order_by(PushDelivery.id)
        .limit(limit)
    )
    return [_push_status(row, now) for row in rows.scalars()]


def _push_status(row: PushDelivery, now: datetime) -> PushStatus:
    return PushStatus(
        hub_delivery_number=row.hub_delivery_number,
        state=row.state,
        attempts=row.attempts,
        due_at=row.due_at,
        last_error=row.last_error,
        in_flight=row.leased_until is not None and row.leased_until > now,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class EvidenceLink:
    seq: int
    event_id: int
    hash: str


async def evidence_links(
    session: AsyncSession, event_ids: Sequence[int]
) -> dict[int, EvidenceLink]:
    """event id -> its link in the hash-chained evidence log (hub/signing), where appended."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(EvidenceEntry.seq, EvidenceEntry.event_id, EvidenceEntry.hash).where(
            EvidenceEntry.event_id.in_(event_ids)
        )
    )
    return {
        event_id: EvidenceLink(seq=seq, event_id=event_id, hash=digest)
        for seq, event_id, digest in rows
    }
