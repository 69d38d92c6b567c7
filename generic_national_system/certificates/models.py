"""Certificate and attachment tables."""

from datetime import datetime
from typing import Any

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


class ExportCertificate(Base):
    """One export (851) or re-export (657) certificate of a tenant, from draft to delivery."""

    __tablename__ = "gens_certificates"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("gens_tenants.id", ondelete="CASCADE"), index=True
    )
    #: The NPPO certificate number (document ID and the envelope's NPPOCertificateNumber).
    number: Mapped[str] = mapped_column(String(40))
    type_code: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), index=True)
    #: What the forms collected (`certificates.draft.Draft` as JSON).
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Shown in lists without reading `data`.
    import_country: Mapped[str | None] = mapped_column(String(2), default=None)
    consignee_name: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Why it was returned for correction, for the applicant to read.
    review_comment: Mapped[str | None] = mapped_column(Text, default=None)
    #: The issued SPSCertificate XML, exactly as sent. Never changes once set.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: The findings of the last validation at issue (area, level, field, msg), to show.
    findings: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, default=None)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    issued_by: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The hub participant it is sent to (by default the one whose code is the import country).
    destination_code: Mapped[str | None] = mapped_column(String(16), default=None)
    hub_delivery_number: Mapped[str | None] = mapped_column(String(40), default=None)
    #: The hub's seal of the sent envelope, the certificate it verified with, and whether it did.
    hub_seal: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    hub_seal_cert_pem: Mapped[str | None] = mapped_column(Text, default=None)
    hub_seal_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The hub's tracking state as last read, and its error or warning message.
    hub_tracking: Mapped[str | None] = mapped_column(String(40), default=None)
    hub_message: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    #: The certificate this one replaces (it becomes `replaced` when this one is issued).
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("gens_certificates.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CertificateAttachment(Base):
    """A file carried in the certificate (ReferenceSPSReferencedDocument, base64)."""

    __tablename__ = "gens_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("gens_certificates.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
