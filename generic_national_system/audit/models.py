from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from generic_national_system.database import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One recorded action. Rows are only ever inserted: the log is the history."""

    __tablename__ = "gens_audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("gens_tenants.id", ondelete="CASCADE"), index=True
    )
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("gens_certificates.id", ondelete="CASCADE"), index=True, default=None
    )
    received_id: Mapped[int | None] = mapped_column(
        ForeignKey("gens_received.id", ondelete="CASCADE"), index=True, default=None
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    #: The username (kept as text: the log outlives accounts).
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32), default=None)
    to_state: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
