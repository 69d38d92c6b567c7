"""Every SQL statement about envelopes, their content and their history."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord
from hub.nppos.models import AllowedDocument

PENDING = TrackingState.PENDING_DELIVERY.value


async def store_content(session: AsyncSession, *, sha256: str, data: bytes) -> EnvelopeContent:
    """The content row for these bytes, inserting it once even under concurrent submissions."""
    existing = await _content_by_digest(session, sha256)
    if existing is not None:
        return existing
    row = EnvelopeContent(sha256=sha256, size=len(data), data=data)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another transaction stored the same bytes between our look-up and insert.
        existing = await _content_by_digest(session, sha256)
        if existing is None:
            raise
        return existing
    return row


async def _content_by_digest(session: AsyncSession, sha256: str) -> EnvelopeContent | None:
    result = await session.execute(select(EnvelopeContent).where(EnvelopeContent.sha256 == sha256))
    return result.scalar_one_or_none()


async def content_bytes(session: AsyncSession, content_id: int) -> bytes:
    result = await session.execute(
        select(EnvelopeContent.data).where(EnvelopeContent.id == content_id)
    )
    return result.scalar_one()


async def find_submission(
    session: AsyncSession,
    *,
    kind: str,
    from_code: str,
    to_code: str,
    nppo_certificate_number: str,
    certificate_status: int,
    content_sha256: str,
) -> EnvelopeRecord | None:
    result = await session.execute(
        select(EnvelopeRecord).where(
            EnvelopeRecord.kind == kind,
            EnvelopeRecord.from_code == from_code,
            EnvelopeRecord.to_code == to_code,
            EnvelopeRecord.nppo_certificate_number == nppo_certificate_number,
            EnvelopeRecord.certificate_status == certificate_status,
            EnvelopeRecord.content_sha256 == content_sha256,
            EnvelopeRecord.original_id.is_(None),
        )
    )
    return result.scalar_one_or_none()


async def copies_of(session: AsyncSession, original_id: int) -> Sequence[EnvelopeRecord]:
    result = await session.execute(
        select(EnvelopeRecord)
        .where(EnvelopeRecord.original_id == original_id)
        .order_by(EnvelopeRecord.id)
    )
    return result.scalars().all()


async def by_number(session: AsyncSession, hub_delivery_number: str) -> EnvelopeRecord | None:
    result = await session.execute(
        select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == hub_delivery_number)
    )
    return result.scalar_one_or_none()


async def by_number_for_update(
    session: AsyncSession, hub_delivery_number: str
) -> EnvelopeRecord | None:
    """Row-locked on PostgreSQL so two acknowledgements of one envelope serialise."""
    result = await session.execute(
        select(EnvelopeRecord)
        .where(EnvelopeRecord.hub_delivery_number == hub_delivery_number)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def sent_certificates(
    session: AsyncSession,
    *,
    from_code: str,
    to_code: str | None,
    nppo_certificate_number: str,
    certificate_status: int,
) -> Sequence[EnvelopeRecord]:
    """Original submissions (not copies) of one certificate number by one sender."""
    query = select(EnvelopeRecord).where(
        EnvelopeRecord.kind == "certificate",
        EnvelopeRecord.from_code == from_code,
        EnvelopeRecord.nppo_certificate_number == nppo_certificate_number,
        EnvelopeRecord.certificate_status == certificate_status,
        EnvelopeRecord.original_id.is_(None),
    )
    if to_code is not None:
        query = query.where(EnvelopeRecord.to_code == to_code)
    return (await session.execute(query.order_by(EnvelopeRecord.id))).scalars().all()


async def waiting_in_box(
    session: AsyncSession, *, box_code: str, to_code: str | None, limit: int
) -> Sequence[EnvelopeRecord]:
    query = select(EnvelopeRecord).where(
        EnvelopeRecord.box_code == box_code, EnvelopeRecord.tracking_state == PENDING
    )
    if to_code:
        query = query.where(EnvelopeRecord.to_code == to_code)
    return (await session.execute(query.order_by(EnvelopeRecord.id).limit(limit))).scalars().all()


async def unfinished_from(
    session: AsyncSession, *, from_code: str, limit: int
) -> Sequence[EnvelopeRecord]:
    query = (
        select(EnvelopeRecord)
        .where(EnvelopeRecord.from_code == from_code, EnvelopeRecord.tracking_state == PENDING)
        .order_by(EnvelopeRecord.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def history(session: AsyncSession, envelope_id: int) -> Sequence[EnvelopeEvent]:
    result = await session.execute(
        select(EnvelopeEvent)
        .where(EnvelopeEvent.envelope_id == envelope_id)
        .order_by(EnvelopeEvent.id)
    )
    return result.scalars().all()


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(
        select(EnvelopeRecord.tracking_state, func.count()).group_by(EnvelopeRecord.tracking_state)
    )
    return {state: count for state, count in result.tuples()}


async def nppos_allowing(
    session: AsyncSession,
    *,
    nppo_ids: Sequence[int],
    certificate_type: int,
    certificate_status: int,
) -> set[int]:
    """Which of these NPPOs have the (type, status) pair among their active allowed documents."""
    result = await session.execute(
        select(AllowedDocument.nppo_id).where(
            AllowedDocument.nppo_id.in_(nppo_ids),
            AllowedDocument.certificate_type == certificate_type,
            AllowedDocument.certificate_status == certificate_status,
            AllowedDocument.active.is_(True),
        )
    )
    return set(result.scalars())
