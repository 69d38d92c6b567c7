"""Envelopes, their content and their history."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.database import Base, UtcDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class EnvelopeContent(Base):
    """The exact bytes accepted, stored once per digest and shared by forwarded copies."""

    __tablename__ = "envelope_contents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EnvelopeRecord(Base):
    """One delivery: a header routed to one box. A forwarded copy is its own record."""

    __tablename__ = "envelopes"
    __table_args__ = (
        # The duplicate rule: the same sender, destination, number, status and content is
        # one submission. Copies (original_id set) are excluded, they share the content.
        Index(
            "uq_envelopes_submission",
            "kind",
            "from_code",
            "to_code",
            "nppo_certificate_number",
            "certificate_status",
            "content_sha256",
            unique=True,
            sqlite_where=text("original_id IS NULL"),
            postgresql_where=text("original_id IS NULL"),
        ),
        Index("ix_envelopes_box_state", "box_code", "tracking_state", "id"),
        Index("ix_envelopes_sender_state", "from_code", "tracking_state", "id"),
        Index("ix_envelopes_certificate", "from_code", "nppo_certificate_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_delivery_number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_code: Mapped[str] = mapped_column(String(16))
    to_code: Mapped[str] = mapped_column(String(16))
    #: The box the envelope waits in: `to_code`, its delegate, or a cc target.
    box_code: Mapped[str] = mapped_column(String(16))
    certificate_type: Mapped[int] = mapped_column(Integer)
    certificate_status: Mapped[int] = mapped_column(Integer)
    nppo_certificate_number: Mapped[str] = mapped_column(String(200))
    tracking_state: Mapped[str] = mapped_column(String(24))
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    content_id: Mapped[int] = mapped_column(ForeignKey("envelope_contents.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: For copies: the envelope the sender submitted.
    original_id: Mapped[int | None] = mapped_column(ForeignKey("envelopes.id"), default=None)
    #: Why a copy exists: "forwarding" (sender's cc) or "forward_rule" (a FORWARD channel).
    copy_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    #: Set on a status-70 envelope when a later withdrawal (status 40) or replacement arrives.
    withdrawn_by: Mapped[str | None] = mapped_column(String(40), default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(40), default=None)
    replaces_certificate_number: Mapped[str | None] = mapped_column(String(200), default=None)
    pull_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: When a box consumer recorded the envelope in its box (hub/routing). The box lists it from
    #: the commit on; until this is set the routing outbox keeps publishing it.
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class EnvelopeEvent(Base):
    """The history of one envelope: every state change and every pull, with who and when."""

    __tablename__ = "envelope_events"
    __table_args__ = (
        Index("ix_envelope_events_envelope", "envelope_id", "id"),
        # What the evidence chainer reads: the few events not yet chained, without a scan.
        Index(
            "ix_envelope_events_unchained",
            "id",
            sqlite_where=text("chain_seq IS NULL"),
            postgresql_where=text("chain_seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    tracking_state: Mapped[str | None] = mapped_column(String(24), default=None)
    actor: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    #: The evidence link that chains this event (hub/signing/evidence); None until appended.
    chain_seq: Mapped[int | None] = mapped_column(BigId, default=None)
