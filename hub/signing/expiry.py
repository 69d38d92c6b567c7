"""Certificate lifecycle: which certificates expire soon, at the 60 / 30 / 7 day marks.

Covers every certificate the hub depends on: NPPO client certificates (revoked ones excluded:
they are already out), NPPO content-signing certificates, and the hub's own seal and TLS server
certificates. ``ephyto certs expiry`` prints it; metrics read the same list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import fingerprint_sha256
from hub.nppos.models import ClientCertificate, Nppo, SigningCertificate

#: Warning marks, in days before ``not_after``.
WARNING_DAYS: Final = (60, 30, 7)
HUB_OWNER: Final = "(hub)"


class ExpiryStatus(StrEnum):
    VALID = "valid"  # more than 60 days left
    WITHIN_60_DAYS = "within_60_days"
    WITHIN_30_DAYS = "within_30_days"
    WITHIN_7_DAYS = "within_7_days"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"

    @property
    def needs_attention(self) -> bool:
        return self is not ExpiryStatus.VALID and self is not ExpiryStatus.NOT_YET_VALID

    @property
    def urgent(self) -> bool:
        return self in (ExpiryStatus.WITHIN_7_DAYS, ExpiryStatus.EXPIRED)


@dataclass(frozen=True, kw_only=True, slots=True)
class CertificateExpiry:
    #: "client", "signing", "hub-seal" or "hub-server".
    kind: str
    owner: str
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    #: Whole days left, rounded down; negative once expired.
    days_left: int
    status: ExpiryStatus


def expiry_status(*, not_before: datetime, not_after: datetime, now: datetime) -> ExpiryStatus:
    if now < not_before:
        return ExpiryStatus.NOT_YET_VALID
    if now >= not_after:
        return ExpiryStatus.EXPIRED
    left = not_after - now
    for days, status in zip(
        sorted(WARNING_DAYS),
        (ExpiryStatus.WITHIN_7_DAYS, ExpiryStatus.WITHIN_30_DAYS, ExpiryStatus.WITHIN_60_DAYS),
        strict=True,
    ):
        if left <= timedelta(days=days):
            return status
    return ExpiryStatus.VALID


async def certificate_expiries(
    session: AsyncSession,
    *,
    now: datetime,
    hub_certificates: Mapping[str, x509.Certificate] | None = None,
) -> list[CertificateExpiry]:
    """Every certificate the hub depends on, soonest to expire first.

    ``hub_certificates`` maps a kind ("hub-seal", "hub-server") to the hub's own certificate.
    """
    found: list[CertificateExpiry] = []
    clients = await session.execute(
        select(ClientCertificate, Nppo.code)
        .join(Nppo, ClientCertificate.nppo_id == Nppo.id)
        .where(ClientCertificate.revoked_at.is_(None))
    )
    signers = await session.execute(
        select(SigningCertificate, Nppo.code).join(Nppo, SigningCertificate.nppo_id == Nppo.id)
    )
    for kind, rows in (("client", clients.all()), ("signing", signers.all())):
        for record, code in rows:
            found.append(
                _expiry(
                    kind=kind,
                    owner=code,
                    subject=record.subject,
                    fingerprint=record.fingerprint_sha256,
                    not_before=record.not_before,
                    not_after=record.not_after,
                    now=now,
                )
            )
    for kind, certificate in (hub_certificates or {}).items():
        found.append(
            _expiry(
                kind=kind,
                owner=HUB_OWNER,
                subject=certificate.subject.rfc4514_string(),
                fingerprint=fingerprint_sha256(certificate),
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                now=now,
            )
        )
    return sorted(found, key=lambda e: (e.not_after, e.kind, e.owner))


def _expiry(
    *,
    kind: str,
    owner: str,
    subject: str,
    fingerprint: str,
    not_before: datetime,
    not_after: datetime,
    now: datetime,
) -> CertificateExpiry:
    return CertificateExpiry(
        kind=kind,
        owner=owner,
        subject=subject,
        fingerprint=fingerprint,
        not_before=not_before,
        not_after=not_after,
        days_left=math.floor((not_after - now) / timedelta(days=1)),
        status=expiry_status(not_before=not_before, not_after=not_after, now=now),
    )
