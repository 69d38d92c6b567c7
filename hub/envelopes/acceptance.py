"""Storing an accepted submission: its content, its envelope, the "accepted" event, the outbox row
that routes it and the hub's seal, all in the caller's transaction.

On PostgreSQL these five rows are one statement (data-modifying CTEs) instead of five statements
and an ORM flush: the exchange is CPU-bound, and each statement through SQLAlchemy and asyncpg
costs the hub more than the row it writes (README, "Exchange benchmark"). Elsewhere (SQLite) they
are written one by one. Both write the same rows; the tests run every submission path on both.

The outbox row belongs to routing (hub/routing/outbox.py) and the seal to signing
(hub/signing/seal.py): they are written here only because one statement carries them.
"""

from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import (
    Executable,
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from hub.database import Base
from hub.envelopes import repository
from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord
from hub.routing import outbox
from hub.routing.models import OutboxMessage
from hub.signing import repository as signing_repository
from hub.signing.models import EnvelopeSealRecord

ACCEPTED_EVENT = "accepted"


@dataclass(frozen=True, kw_only=True, slots=True)
class Acceptance:
    """What accepting one submission writes besides its envelope row."""

    data: bytes
    #: Who submitted it, and what the "accepted" event says (the box, the findings).
    actor: str
    detail: str
    #: The hub's seal of the envelope; None only where the service runs without signing.
    seal: bytes | None


async def store_accepted(
    session: AsyncSession, record: EnvelopeRecord, acceptance: Acceptance
) -> bool:
    """Store ``record`` (content id and id left unset) with its content, event, outbox row and
    seal, unless the same submission (the duplicate rule's unique index) is already stored.

    True when stored: ``record`` is then persistent in the session with every column as stored.
    False when it is a duplicate: nothing was written. On PostgreSQL a concurrent submission of
    the same envelope (or the same content) waits for the first to commit, as before.
    """
    if session.get_bind().dialect.name == "postgresql":
        stored = await _in_one_statement(session, record, acceptance)
        if stored is not None:
            return stored
        # The content was committed by a concurrent submission after this statement's snapshot
        # was taken, so the statement could not see it: the next statements can.
    return await _step_by_step(session, record, acceptance)


async def _step_by_step(
    session: AsyncSession, record: EnvelopeRecord, acceptance: Acceptance
) -> bool:
    record.content_id = await repository.store_content(
        session, sha256=record.content_sha256, data=acceptance.data
    )
    if not await repository.insert_original(session, record):
        return False
    session.add(
        EnvelopeEvent(
            envelope_id=record.id,
            at=record.created_at,
            event=ACCEPTED_EVENT,
            tracking_state=record.tracking_state,
            actor=acceptance.actor,
            detail=acceptance.detail,
        )
    )
    outbox.enqueue(session, [record], now=record.created_at)
    if acceptance.seal is not None:
        signing_repository.add_seal(
            session, envelope_id=record.id, document=acceptance.seal, created_at=record.created_at
        )
    await session.flush()
    return True


async def _in_one_statement(
    session: AsyncSession, record: EnvelopeRecord, acceptance: Acceptance
) -> bool | None:
    """True stored, False a duplicate, None when the content row was not visible (see above)."""
    values: dict[str, Any] = {
        column.key: getattr(record, column.key) for column in _ENVELOPE_COLUMNS
    }
    values |= {
        "content_size": len(acceptance.data),
        "content_data": acceptance.data,
        "event_actor": acceptance.actor,
        "event_detail": acceptance.detail,
    }
    statement = _STATEMENTS[acceptance.seal is not None]
    if acceptance.seal is not None:
        values["seal_document"] = acceptance.seal
    row = (await session.execute(statement, values)).one_or_none()
    if row is None:
        return None
    if row.id is None:
        return False
    for column in _ENVELOPES.columns:
        setattr(record, column.key, row._mapping[column.key])
    make_transient_to_detached(record)
    # Persistent, as if loaded (later changes become UPDATEs); the metrics count the
    # acceptance when it joins the session (detached_to_persistent), as for insert_original.
    session.add(record)
    return True


def _table(model: type[Base]) -> Table:
    # Statements on tables, not on mapped classes: the session then executes them as Core,
    # without the ORM's per-statement compile and result machinery.
    return cast(Table, model.__table__)


_CONTENTS = _table(EnvelopeContent)
_ENVELOPES = _table(EnvelopeRecord)
#: The envelope columns the service sets; the database gives the id and the content's id.
_ENVELOPE_COLUMNS: Final = tuple(
    column for column in _ENVELOPES.columns if column.key not in ("id", "content_id")
)


def _one_statement(*, with_seal: bool) -> Executable:
    """The five inserts as one PostgreSQL statement, built once (per seal or none).

    ``new_content`` inserts the bytes unless their digest is stored; ``content`` is the id either
    way; ``envelope`` inserts the envelope unless the duplicate rule's index holds the same
    submission; event, outbox row and seal are inserted for the envelope inserted, that is for
    none when it was a duplicate. The statement answers one row (the stored envelope, or NULLs for
    a duplicate), or none when the content was not visible.
    """
    sha256 = bindparam("content_sha256", type_=String)
    new_content = (
        postgresql.insert(_CONTENTS)
        .values(
            sha256=sha256,
            size=bindparam("content_size", type_=Integer),
            data=bindparam("content_data", type_=LargeBinary),
        )
        .on_conflict_do_nothing(index_elements=[_CONTENTS.c.sha256])
        .returning(_CONTENTS.c.id)
        .cte("new_content")
    )
    content = (
        select(new_content.c.id)
        .union_all(select(_CONTENTS.c.id).where(_CONTENTS.c.sha256 == sha256))
        .limit(1)
        .cte("content")
    )
    envelope = (
        postgresql.insert(_ENVELOPES)
        .from_select(
            [*(column.key for column in _ENVELOPE_COLUMNS), "content_id"],
            select(
                *(bindparam(column.key, type_=column.type) for column in _ENVELOPE_COLUMNS),
                content.c.id,
            ),
        )
        .on_conflict_do_nothing(
            index_elements=[_ENVELOPES.c[column.key] for column in repository.SUBMISSION_KEY],
            index_where=_ENVELOPES.c.original_id.is_(None),
        )
        .returning(*_ENVELOPES.c)
        .cte("envelope")
    )
    event = insert(_table(EnvelopeEvent)).from_select(
        ["envelope_id", "at", "event", "tracking_state", "actor", "detail"],
        select(
            envelope.c.id,
            envelope.c.created_at,
            literal(ACCEPTED_EVENT, String),
            envelope.c.tracking_state,
            bindparam("event_actor", type_=String),
            bindparam("event_detail", type_=String),
        ),
    )
    routed = insert(_table(OutboxMessage)).from_select(
        ["envelope_id", "hub_delivery_number", "box_code", "created_at", "publish_count"],
        select(
            envelope.c.id,
            envelope.c.hub_delivery_number,
            envelope.c.box_code,
            envelope.c.created_at,
            literal(0, Integer),
        ),
    )
    writes = [event.cte("event"), routed.cte("outbox")]
    if with_seal:
        sealed = insert(_table(EnvelopeSealRecord)).from_select(
            ["envelope_id", "document", "created_at"],
            select(
                envelope.c.id,
                bindparam("seal_document", type_=LargeBinary),
                envelope.c.created_at,
            ),
        )
        writes.append(sealed.cte("seal"))
    return select(*envelope.c).select_from(content.outerjoin(envelope, true())).add_cte(*writes)


_STATEMENTS: Final = {with_seal: _one_statement(with_seal=with_seal) for with_seal in (True, False)}
