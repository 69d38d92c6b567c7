"""What a tenant received through the hub: certificates for it, and importers' responses to its
own certificates. The raw bytes and the hub's seal are kept exactly as pulled."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from generic_national_system.database import Base, UtcDateTime, utcnow


class ReceivedEnvelope(Base):
    """One envelope pulled from the tenant's box: a certificate or a country response."""

    __tablename__ = "gens_received"
    __table_args__ = (UniqueConstraint("tenant_id", "hub_delivery_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("gens_tenants.id", ondelete="CASCADE"), index=True
    )
    #: `certificate` or `country_response` (the hub's envelope kind).
    kind: Mapped[str] = mapped_column(String(20))
    hub_delivery_number: Mapped[str] = mapped_column(String(40))
    from_code: Mapped[str] = mapped_column(String(16))
    to_code: Mapped[str] = mapped_column(String(16))
    certificate_type: Mapped[int] = mapped_column(Integer)
    certificate_status: Mapped[int] = mapped_column(Integer)
    nppo_certificate_number: Mapped[str] = mapped_column(String(100), index=True)
    #: The document exactly as pulled, and its SHA-256 (hex), which the hub's seal states.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    received_by: Mapped[str] = mapped_column(String(64))

    # The hub's seal: the signed document, the certificate it verified with (kept, so the check
    # can be repeated later), and the outcome when GeNS received it.
    seal: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    seal_cert_pem: Mapped[str | None] = mapped_column(Text, default=None)
    seal_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    seal_problem: Mapped[str | None] = mapped_column(Text, default=None)
    sealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    #: `none` (unsigned), `valid`, `invalid` or `unchecked` (no signing certificate published).
    content_signature: Mapped[str] = mapped_column(String(16), default="none")
    content_signature_detail: Mapped[str | None] = mapped_column(Text, default=None)

    #: False when the content could not be read as a certificate (see `read_problem`).
    readable: Mapped[bool] = mapped_column(Boolean, default=True)
    read_problem: Mapped[str | None] = mapped_column(Text, default=None)
    #: Validation findings (area, level, field, msg) of a received certificate.
    findings: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, default=None)

    # Shown in lists and reports without reading the content.
    export_country: Mapped[str | None] = mapped_column(String(2), default=None, index=True)
    import_country: Mapped[str | None] = mapped_column(String(2), default=None)
    consignor_name: Mapped[str | None] = mapped_column(String(200), default=None)
    commodity: Mapped[str | None] = mapped_column(String(200), default=None)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    #: A country response's status code (39 approved, 41 rejected) and reason.
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_reason: Mapped[str | None] = mapped_column(Text, default=None)

    #: `received`, then `acknowledged`, `acknowledged_with_warnings` or `not_readable`.
    state: Mapped[str] = mapped_column(String(32), default="received", index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    acknowledgement_message: Mapped[str | None] = mapped_column(Text, default=None)

    #: The inspector's decision sent back to the exporter: `accepted` or `rejected`.
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    decision_delivery_number: Mapped[str | None] = mapped_column(String(40), default=None)
