"""The NPPO registry: who may send and receive what, how they are reached, how they prove it."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.database import Base, UtcDateTime, utcnow


class Nppo(Base):
    """A participant: a country's NPPO (ISO 3166 code) or a channel (delegate or cc system)."""

    __tablename__ = "nppos"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    can_send: Mapped[bool] = mapped_column(Boolean, default=True)
    can_receive: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "pull" (the NPPO lists and pulls its box) or "push" (the hub calls `push_url`).
    delivery_mode: Mapped[str] = mapped_column(String(8), default="pull")
    push_url: Mapped[str | None] = mapped_column(String(500), default=None)
    #: ContentSignaturePolicy: "none", "optional" or "required" (hub/signing/content.py).
    content_signature: Mapped[str] = mapped_column(String(8), default="optional")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    allowed_documents: Mapped[list["AllowedDocument"]] = relationship(
        back_populates="nppo", lazy="raise", cascade="all, delete-orphan"
    )
    channel_rules: Mapped[list["ChannelRule"]] = relationship(
        back_populates="nppo", lazy="raise", cascade="all, delete-orphan"
    )
    client_certificates: Mapped[list["ClientCertificate"]] = relationship(
        back_populates="nppo", lazy="raise", cascade="all, delete-orphan"
    )
    signing_certificates: Mapped[list["SigningCertificate"]] = relationship(
        back_populates="nppo", lazy="raise", cascade="all, delete-orphan"
    )


class AllowedDocument(Base):
    """A (certificate type, status) pair the NPPO may exchange, e.g. (851, 70)."""

    __tablename__ = "allowed_documents"
    __table_args__ = (
        UniqueConstraint(
            "nppo_id", "certificate_type", "certificate_status", name="uq_allowed_documents_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nppo_id: Mapped[int] = mapped_column(ForeignKey("nppos.id", ondelete="CASCADE"))
    certificate_type: Mapped[int] = mapped_column(Integer)
    certificate_status: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    nppo: Mapped[Nppo] = relationship(back_populates="allowed_documents", lazy="raise")


class ChannelRule(Base):
    """A rule owned by a channel.

    DELEGATE: the channel receives on behalf of `country_code` (direction INC) or sends for it
    (OUT). FORWARD: the channel gets a copy of what `country_code` sends (OUT) or receives (INC).
    """

    __tablename__ = "channel_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    nppo_id: Mapped[int] = mapped_column(ForeignKey("nppos.id", ondelete="CASCADE"))
    rule_type: Mapped[str] = mapped_column(String(8))
    certificate_type: Mapped[int] = mapped_column(Integer)
    certificate_status: Mapped[int] = mapped_column(Integer)
    country_code: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    nppo: Mapped[Nppo] = relationship(back_populates="channel_rules", lazy="raise")


class ClientCertificate(Base):
    """A TLS client certificate that authenticates an NPPO. Several may be valid at once."""

    __tablename__ = "client_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    nppo_id: Mapped[int] = mapped_column(ForeignKey("nppos.id", ondelete="CASCADE"))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revocation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    nppo: Mapped[Nppo] = relationship(back_populates="client_certificates", lazy="raise")


class SigningCertificate(Base):
    """The certificate an NPPO signs certificate content with; published by GetActiveNppos."""

    __tablename__ = "signing_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    nppo_id: Mapped[int] = mapped_column(ForeignKey("nppos.id", ondelete="CASCADE"))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    nppo: Mapped[Nppo] = relationship(back_populates="signing_certificates", lazy="raise")
