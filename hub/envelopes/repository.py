"""Every SQL statement about envelopes, their content and their history."""

from collections.abc import Sequence
from typing import Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord

PENDING = TrackingState.PENDING_DELIVERY.value
#: The duplicate rule: the columns of the unique index ``uq_envelopes_submission`` (originals).
SUBMISSION_KEY: Final = (
    EnvelopeRecord.kind,
    EnvelopeRecord.from_code,
    EnvelopeRecord.to_code,
    EnvelopeRecord.nppo_certificate_number,
    EnvelopeRecord.certificate_status,
    EnvelopeRecord.content_sha256,
)


# The two inserts of every submission are built once, per dialect, with their values passed as
# parameters: building them per call (``.values(...)``) cost more CPU than executing them.
_CONTENTS = EnvelopeContent.__table__
_ENVELOPES = EnvelopeRecord.__table__
_INSERTS: Final = {
    name: (
        dialect.insert(_CONTENTS)
        .on_conflict_do_nothing(index_elements=[_CONTENTS.c.sha256])
        .returning(_CONTENTS.c.id),
        dialect.insert(_ENVELOPES)
        .on_conflict_do_nothing(
            index_elements=[_ENVELOPES.c[column.key] for column in SUBMISSION_KEY],
            index_where=_ENVELOPES.c.original_id.is_(None),
        )
        .returning(*_ENVELOPES.c),
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CONTENT_ID_BY_DIGEST: Final = select(_CONTENTS.c.id).where(
    _CONTENTS.c.sha256 == bindparam("sha256")
)


async def store_content(session: AsyncSession, *, sha256: str, data: bytes) -> int:
    """The id of the content row for these bytes, inserted once even under concurrent
    submissions (PostgreSQL makes a concurrent insert of the same digest wait for the first)."""
    insert_content, _ = _INSERTS[session.get_bind().dialect.name]
    values = {"sha256": sha256, "size": len(data), "data": data}
    content_id: int | None = (await session.execute(insert_content, values)).scalar_one_or_none()
    if content_id is None:
        existing = await session.execute(_CONTENT_ID_BY_DIGEST, {"sha256": sha256})
        content_id = existing.scalar_one()
    return content_id


async def insert_original(session: AsyncSession, record: EnvelopeRecord) -> bool:
    """Insert a sender's submission unless the same one (the duplicate rule's unique index) is
    already stored; True when inserted, and then ``record`` is in the session with its id.

    One statement instead of look-up, savepoint, insert and release: the index decides, and on
    PostgreSQL a concurrent insert of the same submission waits for the first to commit.
    """
    _, insert_envelope = _INSERTS[session.get_bind().dialect.name]
    # Every column but the id; those the record leaves unset are NULL, as their defaults are.
    values = {c.key: getattr(record, c.key) for c in _ENVELOPES.columns if c.key != "id"}
    row = (await session.execute(insert_envelope, values)).one_or_none()
    if row is None:
        return False
    for column, value in zip(_ENVELOPES.columns, row, strict=True):
        setattr(record, column.key, value)  # every column as stored: none left to lazy-load
    make_transient_to_detached(record)
    # Persistent, as if loaded: later changes become UPDATEs. Flush hooks never see this insert;
    # the metrics count it when it joins the session (detached_to_persistent).
    session.add(record)
    return True


async def content_bytes(session: AsyncSession, content_id: int) -> bytes:
    result = await session.execute(
        select(EnvelopeContent.data).where(EnvelopeContent.id == content_id)
    )
    return result.scalar_one()


async def contents(session: AsyncSession, content_ids: Sequence[int]) -> dict[int, bytes]:
    """The bytes of several contents in one query, by content id."""
    if not content_ids:
        return {}
    result = await session.execute(
        select(EnvelopeContent.id, EnvelopeContent.data).where(
            EnvelopeContent.id.in_(set(content_ids))
        )
    )
    return {content_id: data for content_id, data in result}


async def waiting_with_sizes(
    session: AsyncSession, *, box_code: str, limit: int
) -> Sequence[tuple[EnvelopeRecord, int]]:
    """The oldest envelopes waiting in a box, each with its content's size."""
    result = await session.execute(
        select(EnvelopeRecord, EnvelopeContent.size)
        .join(EnvelopeContent, EnvelopeContent.id == EnvelopeRecord.content_id)
        .where(EnvelopeRecord.box_code == box_code, EnvelopeRecord.tracking_state == PENDING)
        .order_by(EnvelopeRecord.id)
        .limit(limit)
    )
    return [(record, size) for record, size in result]


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


async def by_numbers_for_update(
    session: AsyncSession, hub_delivery_numbers: Sequence[str]
) -> dict[str, EnvelopeRecord]:
    """The envelopes with these numbers, row-locked in id order on PostgreSQL (two batches
    locking overlapping sets in one order cannot deadlock)."""
    if not hub_delivery_numbers:
        return {}
    result = await session.execute(
        select(EnvelopeRecord)
        .where(EnvelopeRecord.hub_delivery_number.in_(hub_delivery_numbers))
        .order_by(EnvelopeRecord.id)
        .with_for_update()
    )
    return {record.hub_delivery_number: record for record in result.scalars()}


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
