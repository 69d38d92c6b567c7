"""Seals, receipts and the evidence chain: the hub's signed and hash-chained records."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.database import Base, UtcDateTime, utcnow
from hub.envelopes.models import BigId


class EnvelopeSealRecord(Base):
    """The signed seal of one accepted envelope, stored exactly as handed out."""

    __tablename__ = "envelope_seals"

    envelope_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("envelopes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeliveryReceiptRecord(Base):
    """The signed receipt issued when the envelope's box owner acknowledged it."""

    __tablename__ = "delivery_receipts"

    envelope_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("envelopes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EvidenceEntry(Base):
    """One link of the evidence chain: an envelope event, canonically serialised and hashed.

    ``hash = sha256(prev_hash || payload)``; ``seq`` runs 1, 2, 3... with no gaps, so a deleted,
    inserted or reordered link breaks the chain. The primary key on ``seq`` also makes a fork
    impossible: two appenders that both read head N cannot both write N + 1.
    """

    __tablename__ = "evidence_entries"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    # No ON DELETE: an event that is in the chain cannot be deleted without breaking the FK.
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("envelope_events.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: The canonical JSON the hash covers: the event as it was when appended.
    payload: Mapped[str] = mapped_column(Text)


class EvidenceCheckpoint(Base):
    """The chain head at ``seq``, signed by the hub's seal (an ``EvidenceCheckpoint`` document)."""

    __tablename__ = "evidence_checkpoints"
    __table_args__ = (Index("ix_evidence_checkpoints_seq", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    document: Mapped[bytes] = mapped_column(LargeBinary)
