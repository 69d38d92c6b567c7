"""Checking the evidence chain end to end, and saying exactly where and how it breaks.

``verify_chain`` walks every link in ``seq`` order, in batches (memory stays flat however long the
chain), and checks, for each link: no gap in ``seq``; ``prev_hash`` is the previous link's hash;
``hash`` is the hash of its own payload; the payload still describes the event row it names (field
by field). Then every signed checkpoint: its signature (against the seal certificates given), and
that the chain still has the head hash it signed. Last, events that name links past the head (the
chain's end cut off); events still waiting for the chainer are counted, not a break.
The first problem found in chain order is the report's ``first_break``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography import x509
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.signing.evidence import (
    EVENT_COLUMNS,
    GENESIS,
    canonical_payload,
    event_fields,
    link_hash,
    verify_checkpoint,
)
from hub.signing.models import EvidenceCheckpoint, EvidenceEntry

#: Links read per query: ~1 KB each, so a batch is about a megabyte.
BATCH = 1000
# Columns, not entities: the walk must not fill the session's identity map with the chain.
_LINK_COLUMNS = (
    EvidenceEntry.seq,
    EvidenceEntry.event_id,
    EvidenceEntry.prev_hash,
    EvidenceEntry.hash,
    EvidenceEntry.payload,
)


class _Link(NamedTuple):
    seq: int
    event_id: int
    prev_hash: str
    hash: str
    payload: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain first stops being trustworthy, and how."""

    seq: int | None
    event_id: int | None
    reason: str
    #: For an edited event row: "field: chained <old>, now <new>", one per changed field.
    differences: tuple[str, ...] = ()

    def describe(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.event_id is not None:
            where.append(f"event row id {self.event_id}")
        text = f"{', '.join(where) or 'chain'}: {self.reason}"
        return "\n".join([text, *(f"  {d}" for d in self.differences)])


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    checkpoints: int
    checkpoints_verified: int
    #: Committed events the chainer has not appended yet (it runs every half second or so).
    unchained_events: int
    first_break: ChainBreak | None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def describe(self) -> str:
        lines = [
            f"links: {self.entries}, head seq {self.head_seq}, head hash {self.head_hash}",
            f"signed checkpoints: {self.checkpoints} ({self.checkpoints_verified} verified)",
            f"events waiting to be chained: {self.unchained_events}",
            *self.notes,
        ]
        if self.first_break is None:
            lines.append("chain OK")
        else:
            lines.append("chain BROKEN at " + self.first_break.describe())
        return "\n".join(lines)


async def verify_chain(
    session: AsyncSession, *, seal_certificates: Sequence[x509.Certificate] = ()
) -> ChainReport:
    """Check the whole evidence chain; checkpoints are verified against ``seal_certificates``
    (without any, their signatures cannot be checked and the report says so)."""
    checkpoints = (
        (await session.execute(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.seq)))
        .scalars()
        .all()
    )
    wanted = {c.seq for c in checkpoints}
    hash_at: dict[int, str] = {}

    breaks: list[ChainBreak] = []
    seq, prev, count = 0, GENESIS, 0
    while not breaks:
        rows = (
            await session.execute(
                select(*_LINK_COLUMNS, *EVENT_COLUMNS)
                .outerjoin(EnvelopeEvent, EnvelopeEvent.id == EvidenceEntry.event_id)
                .outerjoin(EnvelopeRecord, EnvelopeRecord.id == EnvelopeEvent.envelope_id)
                .where(EvidenceEntry.seq > seq)
                .order_by(EvidenceEntry.seq)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            link = _Link._make(row[: len(_LINK_COLUMNS)])
            event = row[len(_LINK_COLUMNS) :]
            problem = _check_link(link, expected_seq=seq + 1, prev_hash=prev, event=event)
            if problem is not None:
                breaks.append(problem)
                break
            seq, prev, count = link.seq, link.hash, count + 1
            if seq in wanted:
                hash_at[seq] = prev

    verified, notes = 0, []
    if not seal_certificates and checkpoints:
        notes.append("checkpoint signatures NOT checked: no seal certificate given")
    for checkpoint in checkpoints:
        problem = _check_checkpoint(checkpoint, hash_at, seal_certificates, chain_end=seq)
        if problem is not None:
            breaks.append(problem)
            break
        verified += 1 if seal_certificates else 0

    unchained = (
        await session.execute(
            select(func.count()).select_from(EnvelopeEvent).where(EnvelopeEvent.chain_seq.is_(None))
        )
    ).scalar_one()
    # Deleted links leave a gap, found above, unless they were the last ones: then the events
    # they chained still name them.
    beyond, first_beyond = (
        await session.execute(
            select(func.count(), func.min(EnvelopeEvent.id)).where(EnvelopeEvent.chain_seq > seq)
        )
    ).one()
    if beyond and not breaks:
        breaks.append(
            ChainBreak(
                seq=seq + 1,
                event_id=first_beyond,
                reason=f"{beyond} event row(s) name links after the head (seq {seq}): the end of "
                "the chain was cut off",
            )
        )
    return ChainReport(
        entries=count,
        head_seq=seq,
        head_hash=prev,
        checkpoints=len(checkpoints),
        checkpoints_verified=verified,
        unchained_events=int(unchained),
        first_break=min(breaks, key=_chain_order) if breaks else None,
        notes=tuple(notes),
    )


def _chain_order(problem: ChainBreak) -> int:
    return problem.seq if problem.seq is not None else 2**63


def _check_link(
    entry: _Link, *, expected_seq: int, prev_hash: str, event: Sequence[Any]
) -> ChainBreak | None:
    if entry.seq != expected_seq:
        return ChainBreak(
            seq=expected_seq,
            event_id=None,
            reason=f"link {expected_seq} is missing (the next one is {entry.seq})",
        )
    if entry.prev_hash != prev_hash:
        return ChainBreak(
            seq=entry.seq,
            event_id=entry.event_id,
            reason=f"prev_hash {entry.prev_hash} is not the hash of link {entry.seq - 1} "
            f"({prev_hash})",
        )
    if link_hash(entry.prev_hash, entry.payload) != entry.hash:
        return ChainBreak(
            seq=entry.seq,
            event_id=entry.event_id,
            reason="the link's hash does not match its payload: the link was edited",
        )
    try:
        chained = json.loads(entry.payload)
    except ValueError:
        chained = None
    if not isinstance(chained, dict) or chained.get("event_id") != entry.event_id:
        return ChainBreak(
            seq=entry.seq, event_id=entry.event_id, reason="the link's payload names another event"
        )
    if event[0] is None:
        return ChainBreak(
            seq=entry.seq, event_id=entry.event_id, reason="the event row was deleted"
        )
    now = json.loads(canonical_payload(entry.seq, event_fields(event)))
    differences = tuple(
        f"{name}: chained {chained.get(name)!r}, now {now.get(name)!r}"
        for name in sorted(set(chained) | set(now))
        if chained.get(name) != now.get(name)
    )
    if differences:
        return ChainBreak(
            seq=entry.seq,
            event_id=entry.event_id,
            reason="the event row differs from what was chained",
            differences=differences,
        )
    return None


def _check_checkpoint(
    checkpoint: EvidenceCheckpoint,
    hash_at: dict[int, str],
    certificates: Sequence[x509.Certificate],
    *,
    chain_end: int,
) -> ChainBreak | None:
    def broken(reason: str) -> ChainBreak:
        return ChainBreak(
            seq=checkpoint.seq, event_id=None, reason=f"checkpoint {checkpoint.id}: {reason}"
        )

    if certificates:
        try:
            # At its own time: a checkpoint stays good after the seal certificate has expired.
            facts = verify_checkpoint(
                checkpoint.document, certificates=certificates, now=checkpoint.created_at
            )
        except EphytoError as exc:
            return broken(f"signature does not verify ({exc.message})")
        if (facts.seq, facts.head_hash) != (checkpoint.seq, checkpoint.head_hash):
            return broken(
                f"the row says seq {checkpoint.seq} / {checkpoint.head_hash}, the signed "
                f"document says seq {facts.seq} / {facts.head_hash}"
            )
    if checkpoint.seq > chain_end and checkpoint.seq not in hash_at:
        return broken(f"signed head seq {checkpoint.seq} is beyond the chain's end ({chain_end})")
    actual = hash_at.get(checkpoint.seq)
    if actual != checkpoint.head_hash:
        return broken(
            f"signed head hash {checkpoint.head_hash} but link {checkpoint.seq} hashes to "
            f"{actual}: history was rewritten"
        )
    return None
