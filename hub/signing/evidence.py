"""The evidence log: every envelope event, appended to a hash chain shortly after it commits.

How it works, and why this way:

- Every state change is an ``EnvelopeEvent`` row (``EnvelopeService._event`` and whoever else adds
  one, e.g. the routing worker), committed with the change it records. Its ``chain_seq`` is
  empty until the chainer appends it.
- The chainer (:class:`EvidenceChainer`, run by the routing workers of every hub and worker
  process) takes the chain lock, reads up to a batch of waiting events (oldest id first) and the
  head, writes their links, sets their ``chain_seq``, and commits. Chain order is the order of
  appending: an event whose transaction commits late is appended late.
- Why after the commit and not in it: appending inside each transaction (as this module first
  did) took the chain's global lock in every event-writing commit, serialising all of them
  across processes, and cost four statements per transaction (12 % of a submission's CPU).
  In batches the lock is held once per thousand events. What it gives up is small: an event
  waits about a second before it is chained, and an event row written around the hub is chained
  like any other instead of being reported. Neither weakens what the chain proves, because
  anyone who can write event rows can also append correctly hashed links; only the signed
  checkpoints bind history, and they are unchanged.
- The lock: on PostgreSQL a transaction-scoped advisory lock; on SQLite the database's one write
  lock. Should two appenders ever share a head anyway, the primary key on ``seq`` refuses the
  second: the chain can fail an append, never fork.
- Each link stores the event as canonical JSON (sorted keys, no spaces, UTF-8) and
  ``hash = sha256(prev_hash + "\\n" + payload)``, so :mod:`hub.signing.evidence_check` can say not
  only that a row changed but which field, from what, to what.
- Every ``checkpoint_every`` links (and on demand) the hub signs an ``EvidenceCheckpoint`` with its
  seal: the head's ``seq`` and hash. A rewrite of history that recomputes every later hash still
  contradicts the signed checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from lxml import etree
from sqlalchemy import Row, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

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
logger = logging.getLogger(__name__)

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


# --- appending ---------------------------------------------------------------------------------


def append_pending(
    session: Session, *, checkpointer: Checkpointer | None = None, limit: int = 1000
) -> int:
    """Append up to ``limit`` committed events that wait for the chain, oldest id first; returns
    how many. Runs inside the caller's transaction, which should commit at once."""
    head_seq, head_hash = _lock_and_read_head(session)
    rows = session.execute(
        select(*EVENT_COLUMNS)
        .join(EnvelopeRecord, EnvelopeRecord.id == EnvelopeEvent.envelope_id)
        .where(EnvelopeEvent.chain_seq.is_(None))
        .order_by(EnvelopeEvent.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    every = checkpointer.every if checkpointer is not None else 0
    links: list[dict[str, object]] = []
    checkpoints: list[tuple[int, str]] = []  # one at each multiple of `every` in the batch
    seq, prev = head_seq, head_hash
    for row in rows:
        seq += 1
        payload = canonical_payload(seq, event_fields(row))
        digest = link_hash(prev, payload)
        links.append(
            {"seq": seq, "event_id": row[0], "prev_hash": prev, "hash": digest, "payload": payload}
        )
        if every and seq % every == 0:
            checkpoints.append((seq, digest))
        prev = digest
    session.execute(insert(EvidenceEntry), links)
    session.execute(
        update(EnvelopeEvent),
        [{"id": link["event_id"], "chain_seq": link["seq"]} for link in links],
    )
    if checkpointer is not None:
        for at, digest in checkpoints:
            _write_checkpoint(session, seq=at, head_hash=digest, signer=checkpointer.signer)
    return len(links)


class EvidenceChainer:
    """Appends committed events to the chain in batches, until asked to stop."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        checkpointer: Checkpointer | None,
        batch: int = 1000,
        idle_seconds: float = 0.5,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._checkpointer = checkpointer
        self._batch = batch
        self._idle_seconds = idle_seconds

    async def append_once(self) -> int:
        """One batch, in its own transaction; how many events it appended."""
        async with self._sessionmaker() as session, session.begin():
            return await session.run_sync(
                append_pending, checkpointer=self._checkpointer, limit=self._batch
            )

    async def append_all(self) -> int:
        """Every event waiting now (for tests, tools and a clean shutdown)."""
        total = 0
        while appended := await self.append_once():
            total += appended
        return total

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                appended = await self.append_once()
            except Exception:  # a restarting database must not end the loop; retry later
                logger.exception("evidence chainer: append failed; retrying")
                appended = 0
            if appended < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self._idle_seconds)


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
