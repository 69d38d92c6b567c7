"""Client certificate -> NPPO. The transport proved possession of the key; we decide who it is."""

from datetime import datetime

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import fingerprint_sha256
from hub.database import utcnow
from hub.errors import NotAuthenticated
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.registry import RegistryCache


async def authenticate(
    session: AsyncSession,
    *,
    certificate_der: bytes | None,
    registry: RegistryCache,
    now: datetime | None = None,
) -> AuthenticatedNppo:
    """The NPPO a client certificate belongs to, or a refusal that says why."""
    if not certificate_der:
        raise NotAuthenticated(
            "no client certificate presented; the hub identifies NPPOs by their TLS client "
            "certificate",
            field="client_certificate",
        )
    # The fingerprint is the digest of the DER bytes: no need to parse a certificate on every
    # request when its digest is registered (it was parsed when it was registered).
    fingerprint = fingerprint_sha256(certificate_der)
    record = (await registry.current(session)).client_certificate(fingerprint)
    if record is None:
        try:
            x509.load_der_x509_certificate(certificate_der)
        except ValueError as exc:
            raise NotAuthenticated(
                "the client certificate could not be read", field="client_certificate"
            ) from exc
        raise NotAuthenticated(
            f"client certificate {fingerprint[:16]}... is not registered to any NPPO",
            field="client_certificate",
        )
    nppo = record.nppo
    now = now or utcnow()
    if record.revoked_at is not None and record.revoked_at <= now:
        raise NotAuthenticated(
            f"client certificate {fingerprint[:16]}... of {nppo.code} was revoked "
            f"on {record.revoked_at:%Y-%m-%d %H:%M} UTC",
            field="client_certificate",
        )
    if now < record.not_before:
        raise NotAuthenticated(
            f"client certificate of {nppo.code} is not valid before "
            f"{record.not_before:%Y-%m-%d %H:%M} UTC",
            field="client_certificate",
        )
    if now >= record.not_after:
        raise NotAuthenticated(
            f"client certificate of {nppo.code} expired on {record.not_after:%Y-%m-%d %H:%M} UTC",
            field="client_certificate",
        )
    if not nppo.active:
        raise NotAuthenticated(
            f"NPPO {nppo.code} is not active on the hub", field="client_certificate"
        )
    return AuthenticatedNppo(
        code=nppo.code, certificate_fingerprint=fingerprint, is_channel=nppo.is_channel
    )
