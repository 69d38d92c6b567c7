"""The hub's seal: a signed statement of what it accepted, when, and the digest of the bytes.

Example (the signature shortened)::

    <?xml version='1.0' encoding='UTF-8'?>
    <hs:EnvelopeSeal xmlns:hs="urn:ephyto:hub:signatures:1" Version="1">
      <hs:HubDeliveryNumber>6f1c...</hs:HubDeliveryNumber>
      <hs:Kind>certificate</hs:Kind>
      <hs:From>AA</hs:From><hs:To>BB</hs:To><hs:Box>BB</hs:Box>
      <hs:CertificateType>851</hs:CertificateType><hs:CertificateStatus>70</hs:CertificateStatus>
      <hs:NPPOCertificateNumber>AA-2026-0001</hs:NPPOCertificateNumber>
      <hs:AcceptedAt>2026-11-25T10:00:00.123456Z</hs:AcceptedAt>
      <hs:ContentSHA256>9f86d0...</hs:ContentSHA256>
      <hs:ContentSignedBy>3b1f...</hs:ContentSignedBy>   (only when the hub verified one)
      <ds:Signature>... Reference URI="" ... X509Certificate of the hub seal ...</ds:Signature>
    </hs:EnvelopeSeal>

``ContentSHA256`` is the hex SHA-256 of the content bytes exactly as the receiver gets them
(``sha256sum`` of the pulled document); ``Box`` is where the envelope waits (the destination, its
delegate, or a cc target for a copy, which has its own delivery number and its own seal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree

from ephyto_core._pki import IssuedCertificate
from ephyto_core._safexml import parse_untrusted
from hub.envelopes.domain import EnvelopeHeader
from hub.signing import documents
from hub.signing.xmldsig import SignatureInvalid, sign_enveloped, verify_enveloped

ROOT = "EnvelopeSeal"


@dataclass(frozen=True, kw_only=True, slots=True)
class SealFacts:
    hub_delivery_number: str
    kind: str
    from_code: str
    to_code: str
    box_code: str
    certificate_type: int
    certificate_status: int
    nppo_certificate_number: str
    accepted_at: datetime
    content_sha256: str
    #: SHA-256 fingerprint of the NPPO signing certificate whose content signature the hub
    #: verified, or None when the content was not signed (or not checked).
    content_signed_by: str | None = None


def seal_document(facts: SealFacts) -> etree._Element:
    root = documents.new_document(ROOT)
    documents.add(root, "HubDeliveryNumber", facts.hub_delivery_number)
    documents.add(root, "Kind", facts.kind)
    documents.add(root, "From", facts.from_code)
    documents.add(root, "To", facts.to_code)
    documents.add(root, "Box", facts.box_code)
    documents.add(root, "CertificateType", str(facts.certificate_type))
    documents.add(root, "CertificateStatus", str(facts.certificate_status))
    documents.add(root, "NPPOCertificateNumber", facts.nppo_certificate_number)
    documents.add(root, "AcceptedAt", documents.xs_datetime(facts.accepted_at))
    documents.add(root, "ContentSHA256", facts.content_sha256)
    documents.add(root, "ContentSignedBy", facts.content_signed_by)
    return root


def make_seal(facts: SealFacts, signer: IssuedCertificate) -> bytes:
    """The signed seal document, ready to store and to hand out as it is."""
    return sign_enveloped(seal_document(facts), signer)


def read_seal(document: etree._Element) -> SealFacts:
    """The facts of a *verified* seal document (from :func:`verify_seal` or ``Verified``)."""
    read = documents.Reader(document, ROOT)
    return SealFacts(
        hub_delivery_number=read.text("HubDeliveryNumber"),
        kind=read.text("Kind"),
        from_code=read.text("From"),
        to_code=read.text("To"),
        box_code=read.text("Box"),
        certificate_type=read.parsed("CertificateType", int),
        certificate_status=read.parsed("CertificateStatus", int),
        nppo_certificate_number=read.text("NPPOCertificateNumber"),
        accepted_at=read.parsed("AcceptedAt", documents.parse_xs_datetime),
        content_sha256=read.text("ContentSHA256"),
        content_signed_by=read.optional("ContentSignedBy"),
    )


def verify_seal(
    data: bytes, *, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> SealFacts:
    """Check a seal against the hub's seal certificate(s) and return what it states.

    Raises :class:`~hub.signing.xmldsig.SignatureInvalid` (or a core XML error for bytes that are
    not safe XML). A caller still compares ``content_sha256`` with the content it holds.
    """
    root = parse_untrusted(data, field="seal")
    verified = verify_enveloped(root, certificates=certificates, now=now)
    return read_seal(verified.document)


def differences(facts: SealFacts, *, header: EnvelopeHeader, content: bytes) -> list[str]:
    """Where an envelope as received departs from what the hub sealed (empty: it does not)."""
    found = []
    digest = hashlib.sha256(content).hexdigest()
    if digest != facts.content_sha256:
        found.append(f"content SHA-256 is {digest}, the seal says {facts.content_sha256}")
    for name, received, sealed in (
        ("hubDeliveryNumber", header.hub_delivery_number, facts.hub_delivery_number),
        ("From", header.from_code, facts.from_code),
        ("To", header.to_code, facts.to_code),
        ("CertificateType", header.certificate_type, facts.certificate_type),
        ("CertificateStatus", header.certificate_status, facts.certificate_status),
        ("NPPOCertificateNumber", header.nppo_certificate_number, facts.nppo_certificate_number),
    ):
        if received != sealed:
            found.append(f"{name} is {received!r}, the seal says {sealed!r}")
    return found


def verify_sealed_envelope(
    seal: bytes,
    *,
    header: EnvelopeHeader,
    content: bytes,
    certificates: Sequence[x509.Certificate],
    now: datetime | None = None,
) -> SealFacts:
    """What a receiver does with a pulled envelope: check the seal, then that the header and the
    content bytes are the ones sealed. Raises ``SignatureInvalid`` naming every difference."""
    facts = verify_seal(seal, certificates=certificates, now=now)
    found = differences(facts, header=header, content=content)
    if found:
        raise SignatureInvalid("the envelope is not what the hub sealed: " + "; ".join(found))
    return facts
