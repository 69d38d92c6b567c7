"""Storing an accepted submission (hub/envelopes/acceptance.py): the one-statement path of
PostgreSQL and the step-by-step path write the same rows, a duplicate writes none, and a content
committed by a concurrent submission after the statement's snapshot is still found."""

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work
from hub.envelopes import acceptance, repository
from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord
from hub.routing.models import OutboxMessage
from hub.runtime import HubRuntime
from hub.signing.models import EnvelopeSealRecord

ACCEPTED_AT = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)


def new_record(data: bytes, *, number: str = "PE-1") -> EnvelopeRecord:
    return EnvelopeRecord(
        hub_delivery_number=str(uuid.uuid4()),
        kind="certificate",
        from_code="AA",
        to_code="BB",
        box_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number=number,
        tracking_state="PendingDelivery",
        content_sha256=hashlib.sha256(data).hexdigest(),
        pull_count=0,
        created_at=ACCEPTED_AT,
        updated_at=ACCEPTED_AT,
    )


def accepted(data: bytes, *, seal: bytes | None = b"<seal/>") -> acceptance.Acceptance:
    return acceptance.Acceptance(data=data, actor="AA", detail="box BB; 0 findings", seal=seal)


async def rows_of(session: AsyncSession, envelope_id: int) -> dict[str, Any]:
    """What storing one envelope wrote, without the ids the database chose."""
    envelope = (
        await session.execute(select(EnvelopeRecord).where(EnvelopeRecord.id == envelope_id))
    ).scalar_one()
    event = (
        await session.execute(select(EnvelopeEvent).where(EnvelopeEvent.envelope_id == envelope_id))
    ).scalar_one()
    routed = (
        await session.execute(select(OutboxMessage).where(OutboxMessage.envelope_id == envelope_id))
    ).scalar_one()
    seal = (
        await session.execute(
            select(EnvelopeSealRecord).where(EnvelopeSealRecord.envelope_id == envelope_id)
        )
    ).scalar_one_or_none()
    content = await session.get(EnvelopeContent, envelope.content_id)
    assert content is not None
    return {
        "envelope": {
            c.key: getattr(envelope, c.key)
            for c in EnvelopeRecord.__table__.columns
            if c.key not in ("id", "content_id", "hub_delivery_number", "nppo_certificate_number")
        },
        "content": (content.sha256, content.size, content.data),
        "event": (event.at, event.event, event.tracking_state, event.actor, event.detail),
        "outbox": (
            routed.hub_delivery_number == envelope.hub_delivery_number,
            routed.box_code,
            routed.created_at,
            routed.published_at,
            routed.publish_count,
        ),
        "seal": (seal.document, seal.created_at) if seal else None,
    }


async def count(session: AsyncSession, model: type[Any]) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_an_accepted_submission_is_stored_with_its_event_outbox_row_and_seal(
    runtime: HubRuntime,
) -> None:
    data = b"<certificate>one</certificate>"
    async with unit_of_work(runtime.sessionmaker) as session:
        record = new_record(data)
        assert await acceptance.store_accepted(session, record, accepted(data))
        assert record.id is not None and record.content_id is not None
        stored = await rows_of(session, record.id)
    assert stored["content"] == (record.content_sha256, len(data), data)
    assert stored["event"] == (
        ACCEPTED_AT,
        "accepted",
        "PendingDelivery",
        "AA",
        "box BB; 0 findings",
    )
    assert stored["outbox"] == (True, "BB", ACCEPTED_AT, None, 0)
    assert stored["seal"] == (b"<seal/>", ACCEPTED_AT)


async def test_both_paths_write_the_same_rows(runtime: HubRuntime) -> None:
    """On PostgreSQL `store_accepted` takes one statement; the step-by-step path (SQLite's, and
    PostgreSQL's when the content was committed concurrently) must write the same rows."""
    data = b"<certificate>shared content</certificate>"
    async with unit_of_work(runtime.sessionmaker) as session:
        first, second = new_record(data, number="PE-1"), new_record(data, number="PE-2")
        assert await acceptance.store_accepted(session, first, accepted(data))
        assert await acceptance._step_by_step(session, second, accepted(data))
        assert first.content_id == second.content_id  # the content is stored once
        assert await rows_of(session, first.id) == await rows_of(session, second.id)
        unsealed = new_record(data, number="PE-3")
        assert await acceptance.store_accepted(session, unsealed, accepted(data, seal=None))
        assert (await rows_of(session, unsealed.id))["seal"] is None


async def test_a_duplicate_writes_nothing(runtime: HubRuntime) -> None:
    data = b"<certificate>twice</certificate>"
    async with unit_of_work(runtime.sessionmaker) as session:
        assert await acceptance.store_accepted(session, new_record(data), accepted(data))
    async with unit_of_work(runtime.sessionmaker) as session:
        before = {m: await count(session, m) for m in _WRITTEN}
        again = new_record(data)  # same sender, destination, number, status and content
        assert not await acceptance.store_accepted(session, again, accepted(data))
        assert again.id is None
        assert {m: await count(session, m) for m in _WRITTEN} == before


_WRITTEN = (EnvelopeContent, EnvelopeRecord, EnvelopeEvent, OutboxMessage, EnvelopeSealRecord)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_content_committed_during_the_statement_is_found(
    runtime: HubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another submission of the same content holds its row uncommitted: the statement waits for
    it, and its snapshot (taken before) cannot see the row once committed. The envelope is
    stored all the same, step by step, on the one content row."""
    step_by_step = acceptance._step_by_step
    fell_back: list[EnvelopeRecord] = []

    async def watched(session: AsyncSession, record: EnvelopeRecord, *args: Any) -> bool:
        fell_back.append(record)
        return await step_by_step(session, record, *args)

    monkeypatch.setattr(acceptance, "_step_by_step", watched)
    data = b"<certificate>raced</certificate>"
    first = new_record(data, number="PE-FIRST")
    async with runtime.sessionmaker() as holder:
        first_content = await repository.store_content(
            holder, sha256=first.content_sha256, data=data
        )
        racing = new_record(data, number="PE-SECOND")

        async def store_racing() -> bool:
            async with unit_of_work(runtime.sessionmaker) as session:
                return await acceptance.store_accepted(session, racing, accepted(data))

        task = asyncio.create_task(store_racing())
        await asyncio.sleep(0.3)
        assert not task.done(), "the statement should wait for the uncommitted content"
        await holder.commit()
        assert await asyncio.wait_for(task, timeout=10)
    assert racing.content_id == first_content
    assert fell_back == [racing]
    async with runtime.sessionmaker() as session:
        assert await count(session, EnvelopeContent) == 1
        assert await count(session, OutboxMessage) == 1
