"""Tenant, user and login-session tables."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from generic_national_system.database import Base, UtcDateTime, utcnow


class Tenant(Base):
    """One NPPO using GeNS: its identity on the hub and how its certificates are issued."""

    __tablename__ = "gens_tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The NPPO code on the hub (ISO 3166-1 alpha-2 for a country).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: The NPPO's name: the certificate's issuer and signatory provider.
    name: Mapped[str] = mapped_column(String(200))
    #: The exporting country of its certificates.
    country_code: Mapped[str] = mapped_column(String(2))
    #: The languages offered to its users, comma-separated (en,es,fr).
    languages: Mapped[str] = mapped_column(String(32), default="en,es,fr")
    default_language: Mapped[str] = mapped_column(String(2), default="en")
    place_of_issue: Mapped[str | None] = mapped_column(String(200), default=None)

    # Hub credentials: the client certificate and key, either as files on the server or stored
    # here (the key encrypted with the app's secret, see accounts.secrets).
    hub_client_cert_path: Mapped[str | None] = mapped_column(String(500), default=None)
    hub_client_key_path: Mapped[str | None] = mapped_column(String(500), default=None)
    hub_client_cert_pem: Mapped[str | None] = mapped_column(Text, default=None)
    hub_client_key_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    # Certificate-signing key and certificate (XMLDSig of the content).
    signing_cert_pem: Mapped[str | None] = mapped_column(Text, default=None)
    signing_key_sealed: Mapped[str | None] = mapped_column(Text, default=None)

    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_media_type: Mapped[str | None] = mapped_column(String(40), default=None)

    #: The next certificate sequence number (numbers are <code>-<year>-<sequence>).
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class User(Base):
    __tablename__ = "gens_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("gens_tenants.id", ondelete="CASCADE"))
    #: Unique across tenants, so a login needs no tenant code.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="en")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoginSession(Base):
    """A server-side session. The cookie holds a random token; only its SHA-256 is stored, so
    a copy of the database does not let anyone log in."""

    __tablename__ = "gens_login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("gens_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
