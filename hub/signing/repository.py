"""Every SQL statement about seals and receipts (the evidence chain has its own, in evidence*)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.models import EnvelopeRecord
from hub.signing.models import DeliveryReceiptRecord, EnvelopeSealRecord


def add_seal(
    session: AsyncSession, *, envelope_id: int, document: bytes, created_at: datetime
) -> None:
    session.add(
        EnvelopeSealRecord(envelope_id=envelope_id, document=document, created_at=created_at)
    )


def add_receipt(session: AsyncSession, *, envelope_id: int, document: bytes) -> None:
    session.add(DeliveryReceiptRecord(envelope_id=envelope_id, document=document))


async def seal_of(session: AsyncSession, envelope_id: int) -> bytes | None:
    result = await session.execute(
        select(EnvelopeSealRecord.document).where(EnvelopeSealRecord.envelope_id == envelope_id)
    )
    return result.scalar_one_or_none()


async def seals_by_envelope_id(
    session: AsyncSession, envelope_ids: Sequence[int]
) -> dict[int, bytes]:
    if not envelope_ids:
        return {}
    result = await session.execute(
        select(EnvelopeSealRecord.envelope_id, EnvelopeSealRecord.document).where(
            EnvelopeSealRecord.envelope_id.in_(envelope_ids)
        )
    )
    return {envelope_id: document for envelope_id, document in result}


async def receipt_of(session: AsyncSession, envelope_id: int) -> bytes | None:
    result = await session.execute(
        select(DeliveryReceiptRecord.document).where(
            DeliveryReceiptRecord.envelope_id == envelope_id
        )
    )
    return result.scalar_one_or_none()


async def seals_by_number(session: AsyncSession, numbers: Sequence[str]) -> dict[str, bytes]:
    if not numbers:
        return {}
    result = await session.execute(
        select(EnvelopeRecord.hub_delivery_number, EnvelopeSealRecord.document)
        .join(EnvelopeSealRecord, EnvelopeSealRecord.envelope_id == EnvelopeRecord.id)
        .where(EnvelopeRecord.hub_delivery_number.in_(numbers))
    )
    return {number: document for number, document in result}


async def envelope_by_number(session: AsyncSession, number: str) -> EnvelopeRecord | None:
    result = await session.execute(
        select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number)
    )
    return result.scalar_one_or_none()
