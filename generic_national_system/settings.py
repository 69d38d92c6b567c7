"""GeNS settings, read from `EPHYTO_GENS_*` environment variables (or passed in by tests).

Nothing here connects to anything: `build_runtime` makes the engine and the hub client from these.
"""

from datetime import timedelta
from pathlib import Path
from typing import Final

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR: Final = Path.home() / ".ephyto" / "gens"
#: The value shipped for development. Production refuses to start with it (or with anything short).
PLACEHOLDER_SECRET: Final = "change-me-gens-development-secret"  # noqa: S105
_MIN_SECRET_LENGTH: Final = 32


def async_database_url(url: str) -> str:
    """`postgresql://…` -> `postgresql+asyncpg://…`, `sqlite:///…` -> `sqlite+aiosqlite:///…`;
    a URL that already names a driver is kept."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    return url


class GensSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPHYTO_GENS_", extra="ignore")

    environment: str = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    #: Empty means the embedded default: SQLite in `data_dir/gens.db`.
    database_url: str = ""
    #: Signs CSRF tokens and encrypts the tenants' stored private keys.
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    #: A login lasts this long, however active (8 h: one working day).
    session_lifetime_minutes: int = Field(default=8 * 60, ge=5, le=7 * 24 * 60)
    #: Cookies only over HTTPS. Off only for development on plain http://localhost.
    secure_cookies: bool = True

    # Login lockout: after `lockout_attempts` wrong passwords in a row the account is locked
    # for `lockout_minutes`, which turns online guessing from thousands a minute into a few an hour.
    lockout_attempts: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)

    #: The hub's REST base, e.g. https://hub.example.org/api/v1.
    hub_url: str = "https://127.0.0.1:8443/api/v1"
    #: CA bundle that the hub's server certificate must chain to (None: the system's).
    hub_ca_bundle: Path | None = None
    #: Empty: present the tenant's client certificate in the TLS handshake (mutual TLS). A header
    #: name (e.g. X-Client-Cert): pass it in that header instead, for a hub that trusts GeNS as
    #: its TLS-terminating proxy (same host) and for the in-process hub in tests.
    hub_client_cert_header: str = ""
    hub_timeout_seconds: float = Field(default=30.0, gt=0)
    #: PEM of the hub's seal certificate, pinned. Unset: trust the one the hub publishes (over
    #: the verified TLS channel) — simpler, but a hub impersonator could then forge seals too.
    hub_seal_cert: Path | None = None

    #: GeNS's own address as people reach it (https://gens.example.org), for the QR code on
    #: printed certificates. Empty: the address of the request that printed it.
    public_url: str = ""
    #: A Unicode TrueType font for printed certificates (embedded as a subset). Unset: the PDF
    #: core fonts, which print Latin-1 only (other characters as "?") but embed nothing.
    pdf_font: Path | None = None

    #: XMLDSig-sign certificate content at issue with the tenant's signing key. Off because the
    #: hub's SPSCertificate profile has no place for ds:Signature (the hub refuses it).
    sign_content: bool = False

    #: Largest attachment accepted: 2 MiB keeps a certificate with a few scans well under the
    #: hub's 16 MiB content limit after base64 (x4/3).
    max_attachment_bytes: int = Field(default=2 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "GensSettings":
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if secret == PLACEHOLDER_SECRET or len(secret) < _MIN_SECRET_LENGTH:
                raise ValueError(
                    "EPHYTO_GENS_SECRET_KEY must be set to a random value of at least "
                    f"{_MIN_SECRET_LENGTH} characters in production"
                )
            if not self.database_url:
                raise ValueError("EPHYTO_GENS_DATABASE_URL must be set in production (no SQLite)")
            if not self.secure_cookies:
                raise ValueError("EPHYTO_GENS_SECURE_COOKIES cannot be off in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return async_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'gens.db'}"

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(minutes=self.session_lifetime_minutes)

    @property
    def lockout_duration(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)
