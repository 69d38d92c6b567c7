"""The evidence log: every envelope event, appended to a hash chain when its transaction commits.

How it works, and why this way:

- Every state change is an ``EnvelopeEvent`` row (``EnvelopeService._event`` and whoever else adds
  one, e.g. the routing worker). An ``after_flush`` listener notes the ids of the events a session
  inserts; a ``before_commit`` listener appends them, in id order, to ``evidence_entries``. So no
  code path can add an event and forget the chain, and nothing in the services changes.
- Appending takes the chain lock, reads the head, writes the links, and commits: the lock is held
  only for those last statements and the commit, not for the request. On PostgreSQL the lock is a
  transaction-scoped advisory lock; on SQLite the transaction already holds the database's one
  write lock (it inserted the events). Should anything ever run two appenders on one head anyway
  (another isolation level, a missed lock), the primary key on ``seq`` refuses the second: the
  chain can fail a commit, never fork.
- Each link stores the event as canonical JSON (sorted keys, no spaces, UTF-8) and
  ``hash = sha256(prev_hash + "\\n" + payload)``, so :mod:`hub.signing.evidence_check` can say not
  only that a row changed but which field, from what, to what.
- Every ``checkpoint_every`` links (and on demand) the hub signs an ``EvidenceCheckpoint`` with its
  seal: the head's ``seq`` and hash. A rewrite of history that recomputes every later hash still
  contradicts the signed checkpoints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from lxml import etree
from sqlalchemy import Row, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, UOWTransaction

from ephyto_core._pki import IssuedCertificate
from ephyto_core._safexml import parse_untrusted
from hub.database import utcnow
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.signing import documents
from hub.signing.models import EvidenceCheckpoint, EvidenceEntry
from hub.signing.xmldsig import sign_enveloped, verify_enveloped

GENESIS: Final = "0" * 64
CHECKPOINT_ROOT: Final = "EvidenceCheckpoint"
#: pg_advisory_xact_lock key: the first 8 bytes of sha256("ephyto evidence chain"), as a bigint.
_LOCK_KEY: Final = int.from_bytes(
    hashlib.sha256(b"ephyto evidence chain").digest()[:8], "big", signed=True
)
_PENDING: Final = "ephyto.evidence.pending"
_CHECKPOINTS: Final = "ephyto.evidence.checkpoints"

#: The event columns a link covers, with the envelope's delivery number, in payload order.
EVENT_COLUMNS: Final = (
    EnvelopeEvent.id,
    EnvelopeEvent.envelope_id,
    EnvelopeRecord.hub_delivery_number,
    EnvelopeEvent.at,
    EnvelopeEvent.event,
    EnvelopeEvent.tracking_state,
    EnvelopeEvent.actor,
    EnvelopeEvent.detail,
)


@dataclass(frozen=True, slots=True)
class Checkpointer:
    """Signs a checkpoint every ``every`` links (0: only on demand)."""

    signer: IssuedCertificate
    every: int = 1000


@dataclass(frozen=True, slots=True)
class CheckpointFacts:
    seq: int
    head_hash: str
    at: datetime


# --- canonical form ----------------------------------------------------------------------------


def event_fields(row: Row[Any] | Sequence[Any]) -> dict[str, Any]:
    """One event (a row of ``EVENT_COLUMNS``) as the JSON-ready fields its link covers."""
    event_id, envelope_id, number, at, name, state, actor, detail = tuple(row)
    return {
        "event_id": event_id,
        "envelope_id": envelope_id,
        "envelope": number,
        "at": documents.xs_datetime(at),
        "event": name,
        "state": state,
        "actor": actor,
        "detail": detail,
    }


def canonical_payload(seq: int, fields: dict[str, Any]) -> str:
    return json.dumps(
        {"seq": seq, **fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def link_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


# --- wiring ------------------------------------------------------------------------------------


def install_evidence_chain(
    sessionmaker: async_sessionmaker[AsyncSession], *, checkpointer: Checkpointer | None
) -> None:
    """Chain every envelope event committed through any session; sign checkpoints through this
    sessionmaker's sessions with ``checkpointer``. Safe to call more than once."""
    if not event.contains(Session, "after_flush", _note_new_events):
        event.listen(Session, "after_flush", _note_new_events)
        event.listen(Session, "before_commit", _append_noted_events)
        event.listen(Session, "after_rollback", _forget_noted_events)
    sessionmaker.configure(info={_CHECKPOINTS: checkpointer})


def _note_new_events(session: Session, _flush: UOWTransaction) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, EnvelopeEvent)]
    if ids:
        session.info.setdefault(_PENDING, set()).update(ids)


def _forget_noted_events(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _append_noted_events(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released, not the transaction: append at the real commit
    session.flush()  # the final flush happens after this hook; its events belong in the chain
    pending: set[int] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    append_events(session, sorted(pending), checkpointer=session.info.get(_CHECKPOINTS))


# --- appending ---------------------------------------------------------------------------------


def append_events(
    session: Session, event_ids: Iterable[int], *, checkpointer: Checkpointer | None = None
) -> int:
    """Append these events (those that exist: a rolled-back savepoint's are gone) to the chain,
    in id order; returns the new head ``seq``. Runs inside the caller's transaction."""
    ids = sorted(set(event_ids))
    rows = session.execute(
        select(*EVENT_COLUMNS)
        .join(EnvelopeRecord, EnvelopeRecord.id == EnvelopeEvent.envelope_id)
        .where(EnvelopeEvent.id.in_(ids))
        .order_by(EnvelopeEvent.id)
    ).all()
    head_seq, head_hash = _lock_and_read_head(session)
    if not rows:
        return head_seq
    links = []
    seq, prev = head_seq, head_hash
    for row in rows:
        seq += 1
        payload = canonical_payload(seq, event_fields(row))
        digest = link_hash(prev, payload)
        links.append(
            {"seq": seq, "event_id": row[0], "prev_hash": prev, "hash": digest, "payload": payload}
        )
        prev = digest
    session.execute(insert(EvidenceEntry), links)
    every = checkpointer.every if checkpointer is not None else 0
    if checkpointer is not None and every > 0 and seq // every > head_seq // every:
        _write_checkpoint(session, seq=seq, head_hash=prev, signer=checkpointer.signer)
    return seq


def _lock_and_read_head(session: Session) -> tuple[int, str]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    head = session.execute(
        select(EvidenceEntry.seq, EvidenceEntry.hash).order_by(EvidenceEntry.seq.desc()).limit(1)
    ).first()
    return (head[0], head[1]) if head else (0, GENESIS)


# --- checkpoints -------------------------------------------------------------------------------


def checkpoint_document(facts: CheckpointFacts) -> etree._Element:
    root = documents.new_document(CHECKPOINT_ROOT)
    documents.add(root, "Sequence", str(facts.seq))
    documents.add(root, "HeadHash", facts.head_hash)
    documents.add(root, "At", documents.xs_datetime(facts.at))
    return root


def read_checkpoint(document: etree._Element) -> CheckpointFacts:
    """The facts of a *verified* checkpoint document."""
    read = documents.Reader(document, CHECKPOINT_ROOT)
    return CheckpointFacts(
        seq=read.parsed("Sequence", int),
        head_hash=read.text("HeadHash"),
        at=read.parsed("At", documents.parse_xs_datetime),
    )


def verify_checkpoint(
    data: bytes, *, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> CheckpointFacts:
    root = parse_untrusted(data, field="checkpoint")
    return read_checkpoint(verify_enveloped(root, certificates=certificates, now=now).document)


def _write_checkpoint(
    session: Session, *, seq: int, head_hash: str, signer: IssuedCertificate
) -> EvidenceCheckpoint:
    at = utcnow()
    document = sign_enveloped(
        checkpoint_document(CheckpointFacts(seq=seq, head_hash=head_hash, at=at)), signer
    )
    checkpoint = EvidenceCheckpoint(seq=seq, head_hash=head_hash, created_at=at, document=document)
    session.add(checkpoint)
    session.flush()
    return checkpoint


async def checkpoint_now(
    session: AsyncSession, *, signer: IssuedCertificate
) -> EvidenceCheckpoint | None:
    """Sign a checkpoint of the current head (None while the chain is empty)."""

    def write(sync_session: Session) -> EvidenceCheckpoint | None:
        seq, head_hash = _lock_and_read_head(sync_session)
        if seq == 0:
            return None
        return _write_checkpoint(sync_session, seq=seq, head_hash=head_hash, signer=signer)

    return await session.run_sync(write)
