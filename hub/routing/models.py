"""What routing keeps in the database: the outbox, the push schedule, per-destination circuits.

The database is the source of truth. A row in `routing_outbox` says "this envelope must reach its
box"; it is written in the submission's transaction and lives until a box consumer has recorded
the envelope in its box (`envelopes.routed_at`), so a message lost anywhere on the way is
published again. `push_deliveries` is the retry schedule of push delivery (one row per pushed
envelope, the idempotency key), and `push_circuits` the shared circuit state of each push
destination, so every worker process sees the same open circuit.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.database import Base, UtcDateTime, utcnow
from hub.envelopes.models import BigId


class OutboxMessage(Base):
    __tablename__ = "routing_outbox"
    __table_args__ = (
        Index("ix_routing_outbox_published", "published_at", "id"),
        Index(
            "ix_routing_outbox_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"))
    #: One routing request per envelope: a republication reuses the row.
    hub_delivery_number: Mapped[str] = mapped_column(String(40), unique=True)
    box_code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: When the broker last confirmed it; NULL = never published yet.
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    publish_count: Mapped[int] = mapped_column(Integer, default=0)


class PushState:
    DUE = "due"
    DONE = "done"
    FAILED = "failed"


class PushDelivery(Base):
    __tablename__ = "push_deliveries"
    __table_args__ = (
        Index(
            "ix_push_deliveries_due",
            "box_code",
            "due_at",
            sqlite_where=text("state = 'due'"),
            postgresql_where=text("state = 'due'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    envelope_id: Mapped[int] = mapped_column(
        ForeignKey("envelopes.id", ondelete="CASCADE"), unique=True
    )
    hub_delivery_number: Mapped[str] = mapped_column(String(40), unique=True)
    box_code: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8), default=PushState.DUE)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: A worker holds the row until then while its call runs; after a crash it expires.
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class PushCircuit(Base):
    __tablename__ = "push_circuits"

    box_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: NULL: closed. In the future: open. In the past: half-open, the next claimer probes.
    opened_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    times_opened: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
