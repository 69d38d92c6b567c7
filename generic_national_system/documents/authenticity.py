"""Is a printed certificate authentic? Anyone holding the paper can ask, without an account.

The QR code on a printed certificate carries the hub delivery number and the SHA-256 of the
electronic certificate's bytes. GeNS finds the envelope it sent or received under that number
and checks, again, the hub's seal it kept: the signature (with the seal certificate it verified
with, at the time it first verified it, so an expired seal certificate does not make old paper
"false"), that the seal names this number and this digest, and that the bytes GeNS holds have
this digest. Only then is the answer "authentic"; the page then shows the few facts needed to
compare with the paper (number, type, exporting country, date), and never the parties.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from ephyto_core._pki import load_certificate
from ephyto_core.seal import verify_seal
from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.i18n import N_
from generic_national_system.imports.models import ReceivedEnvelope

DIGEST: Final = re.compile(r"[0-9a-f]{64}")
#: The hub's delivery numbers are UUIDs; anything of this alphabet and size is looked up.
DELIVERY_NUMBER: Final = re.compile(r"[A-Za-z0-9._:-]{1,40}")

UNKNOWN = N_("No certificate with this hub delivery number passed through this system.")
MISMATCH = N_(
    "The electronic certificate registered under this number is not the one this code "
    "describes: the paper may have been altered."
)
UNSEALED = N_("The hub's seal of this certificate could not be verified.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    authentic: bool
    #: A msgid saying why not (None when authentic).
    reason: str | None = None
    certificate_number: str | None = None
    certificate_type: int | None = None
    from_code: str | None = None
    to_code: str | None = None
    sealed_at: datetime | None = None


def check_url(base_url: str, *, delivery_number: str, content_sha256: str) -> str:
    """The address the QR code opens."""
    query = urlencode({"n": delivery_number, "d": content_sha256})
    return f"{base_url.rstrip('/')}/check?{query}"


async def check(session: AsyncSession, *, delivery_number: str, digest: str) -> Verdict:
    """The verdict on (delivery number, content digest), from what this GeNS sent or received."""
    # One GeNS may hold the same envelope twice: sent by one tenant, received by another.
    verdicts = [
        _verify(candidate, delivery_number=delivery_number, digest=digest.lower())
        for candidate in await _candidates(session, delivery_number)
    ]
    for verdict in verdicts:
        if verdict.authentic:
            return verdict
    return verdicts[0] if verdicts else Verdict(authentic=False, reason=UNKNOWN)


@dataclass(frozen=True, slots=True)
class _Held:
    content: bytes
    seal: bytes | None
    seal_cert_pem: str | None
    verified_at: datetime | None


async def _candidates(session: AsyncSession, number: str) -> list[_Held]:
    found = [
        _Held(row.content, row.seal, row.seal_cert_pem, row.received_at)
        for row in await session.scalars(
            select(ReceivedEnvelope).where(ReceivedEnvelope.hub_delivery_number == number)
        )
    ]
    found.extend(
        _Held(row.content, row.hub_seal, row.hub_seal_cert_pem, row.sent_at)
        for row in await session.scalars(
            select(ExportCertificate).where(ExportCertificate.hub_delivery_number == number)
        )
        if row.content is not None
    )
    return found


def _verify(held: _Held, *, delivery_number: str, digest: str) -> Verdict:
    if held.seal is None or held.seal_cert_pem is None:
        return Verdict(authentic=False, reason=UNSEALED)
    try:
        facts = verify_seal(
            held.seal, certificates=[load_certificate(held.seal_cert_pem)], now=held.verified_at
        )
    except (EphytoError, ValueError):
        return Verdict(authentic=False, reason=UNSEALED)
    holds = hashlib.sha256(held.content).hexdigest()
    if facts.hub_delivery_number != delivery_number or holds != facts.content_sha256:
        return Verdict(authentic=False, reason=UNSEALED)
    if digest != facts.content_sha256:
        return Verdict(authentic=False, reason=MISMATCH)
    return Verdict(
        authentic=True,
        certificate_number=facts.nppo_certificate_number,
        certificate_type=facts.certificate_type,
        from_code=facts.from_code,
        to_code=facts.to_code,
        sealed_at=facts.accepted_at,
    )
