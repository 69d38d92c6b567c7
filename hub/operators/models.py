"""Operator accounts, their sessions, the audit log and actions waiting for a second operator.

Operators are people who run the hub; they are not NPPOs and never authenticate by client
certificate, so they live in their own tables.
"""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.database import Base, UtcDateTime, utcnow
from hub.envelopes.models import BigId


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: Argon2id hash (argon2-cffi's encoded form, parameters included).
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Wrong passwords in a row; at `accounts.LOCKOUT_FAILURES` the account locks for a while.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class OperatorSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie is stored: a database dump opens
    no session."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    #: The synchronizer token every form of this session must carry.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """One operator action (or refusal of one), with who, what, on what, why and the outcome."""

    __tablename__ = "operator_audit"
    __table_args__ = (Index("ix_operator_audit_target", "target", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    operator: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    #: What the action was on: an envelope number, a destination or NPPO code, an action id.
    target: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    #: "done", "requested" (waits for a second operator), "confirmed", "cancelled", "refused".
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    #: "console" or "cli": where the operator acted from.
    channel: Mapped[str] = mapped_column(String(10), default="console")


class PendingAction(Base):
    """A destructive action one operator requested and another must confirm before it runs."""

    __tablename__ = "operator_pending_actions"
    __table_args__ = (Index("ix_operator_pending_actions_state", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "mark_failed" or "reroute".
    action: Mapped[str] = mapped_column(String(20))
    envelope_number: Mapped[str] = mapped_column(String(40))
    #: The delegate's code for a re-route.
    argument: Mapped[str | None] = mapped_column(String(16), default=None)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: "pending", "confirmed" (and carried out), "cancelled".
    state: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)


class DeliveryPause(Base):
    """A push destination operators have paused: its push lane stops until the row is gone.

    Envelopes keep arriving in the box (nothing is refused or lost); only pushes wait.
    """

    __tablename__ = "delivery_pauses"

    box_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    paused_by: Mapped[str] = mapped_column(String(64))
    paused_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
