"""What GeNS checks on an envelope it pulled: the hub's seal, and the sender's content signature.

Both use `ephyto_core.seal` (the receiver's half of the hub's signing contract); nothing here
talks to the hub. The trusted seal certificate is the pinned one (`EPHYTO_GENS_HUB_SEAL_CERT`) or
the one the hub published over the verified TLS channel; a sender's signing certificate comes from
the hub's directory.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from ephyto_core._errors import EphytoError
from ephyto_core._safexml import parse_content
from ephyto_core.seal import (
    SealFacts,
    SignatureInvalid,
    find_signatures,
    verify_enveloped,
    verify_sealed_envelope,
)
from generic_national_system.hub_client import HubHeader


@dataclass(frozen=True, slots=True)
class SealCheck:
    verified: bool
    facts: SealFacts | None
    problem: str | None


def check_seal(
    seal: bytes | None,
    *,
    header: HubHeader,
    content: bytes,
    certificates: Sequence[x509.Certificate],
    now: datetime | None = None,
) -> SealCheck:
    """The seal verifies with a trusted certificate and states this header and these bytes."""
    if seal is None:
        return SealCheck(False, None, "the hub gave no seal for this envelope")
    try:
        facts = verify_sealed_envelope(
            seal,
            content=content,
            certificates=certificates,
            now=now,
            hub_delivery_number=header.hub_delivery_number,
            from_code=header.from_code,
            to_code=header.to_code,
            certificate_type=header.certificate_type,
            certificate_status=header.certificate_status,
            nppo_certificate_number=header.nppo_certificate_number,
        )
    except EphytoError as exc:  # SignatureInvalid, or a seal that is not safe XML
        return SealCheck(False, None, exc.message)
    return SealCheck(True, facts, None)


@dataclass(frozen=True, slots=True)
class ContentSignatureCheck:
    #: `none`, `valid`, `invalid` or `unchecked` (signed, but no certificate to check with).
    outcome: str
    detail: str | None = None


def check_content_signature(
    content: bytes, *, signing_certificate: bytes | None, now: datetime | None = None
) -> ContentSignatureCheck:
    """An XMLDSig the sender put in its certificate, checked with its published certificate."""
    try:
        root = parse_content(content)
    except EphytoError as exc:
        return ContentSignatureCheck("none", exc.message)
    if not find_signatures(root):
        return ContentSignatureCheck("none")
    if signing_certificate is None:
        return ContentSignatureCheck(
            "unchecked", "the sender publishes no signing certificate on the hub"
        )
    try:
        certificate = x509.load_der_x509_certificate(signing_certificate)
        verified = verify_enveloped(root, certificates=[certificate], now=now)
    except (SignatureInvalid, ValueError) as exc:
        return ContentSignatureCheck("invalid", str(exc))
    return ContentSignatureCheck("valid", verified.certificate.subject.rfc4514_string())
