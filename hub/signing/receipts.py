"""Signed delivery receipts: the hub's proof to the exporter that the importer acknowledged.

Issued once per envelope, when its box owner acknowledges it (plain, with warnings, or failed),
and signed the same way as the seal. Example (signature shortened)::

    <hs:DeliveryReceipt xmlns:hs="urn:ephyto:hub:signatures:1" Version="1">
      <hs:HubDeliveryNumber>6f1c...</hs:HubDeliveryNumber>
      <hs:From>AA</hs:From><hs:To>BB</hs:To><hs:Box>BB</hs:Box>
      <hs:CertificateType>851</hs:CertificateType><hs:CertificateStatus>70</hs:CertificateStatus>
      <hs:NPPOCertificateNumber>AA-2026-0001</hs:NPPOCertificateNumber>
      <hs:ContentSHA256>9f86d0...</hs:ContentSHA256>
      <hs:SealSHA256>41c2...</hs:SealSHA256>
      <hs:AcceptedAt>2026-11-25T10:00:00.123456Z</hs:AcceptedAt>
      <hs:AcknowledgedBy>BB</hs:AcknowledgedBy>
      <hs:AcknowledgedAt>2026-11-25T10:05:00.000000Z</hs:AcknowledgedAt>
      <hs:TrackingInfo>DeliveredWithWarnings</hs:TrackingInfo>
      <hs:Message>unit KGM expected</hs:Message>
      <ds:Signature>...</ds:Signature>
    </hs:DeliveryReceipt>

``SealSHA256`` is the SHA-256 of the seal document's bytes, tying the receipt to what was sealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree

from ephyto_core._pki import IssuedCertificate
from ephyto_core._safexml import parse_untrusted
from hub.signing import documents
from hub.signing.xmldsig import sign_enveloped, verify_enveloped

ROOT = "DeliveryReceipt"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptFacts:
    hub_delivery_number: str
    from_code: str
    to_code: str
    box_code: str
    certificate_type: int
    certificate_status: int
    nppo_certificate_number: str
    content_sha256: str
    seal_sha256: str | None
    accepted_at: datetime
    acknowledged_by: str
    acknowledged_at: datetime
    #: The contract's HUBTrackingInfo after the acknowledgement.
    tracking_info: str
    message: str | None = None


def receipt_document(facts: ReceiptFacts) -> etree._Element:
    root = documents.new_document(ROOT)
    documents.add(root, "HubDeliveryNumber", facts.hub_delivery_number)
    documents.add(root, "From", facts.from_code)
    documents.add(root, "To", facts.to_code)
    documents.add(root, "Box", facts.box_code)
    documents.add(root, "CertificateType", str(facts.certificate_type))
    documents.add(root, "CertificateStatus", str(facts.certificate_status))
    documents.add(root, "NPPOCertificateNumber", facts.nppo_certificate_number)
    documents.add(root, "ContentSHA256", facts.content_sha256)
    documents.add(root, "SealSHA256", facts.seal_sha256)
    documents.add(root, "AcceptedAt", documents.xs_datetime(facts.accepted_at))
    documents.add(root, "AcknowledgedBy", facts.acknowledged_by)
    documents.add(root, "AcknowledgedAt", documents.xs_datetime(facts.acknowledged_at))
    documents.add(root, "TrackingInfo", facts.tracking_info)
    documents.add(root, "Message", facts.message)
    return root


def make_receipt(facts: ReceiptFacts, signer: IssuedCertificate) -> bytes:
    return sign_enveloped(receipt_document(facts), signer)


def read_receipt(document: etree._Element) -> ReceiptFacts:
    """The facts of a *verified* receipt document."""
    read = documents.Reader(document, ROOT)
    return ReceiptFacts(
        hub_delivery_number=read.text("HubDeliveryNumber"),
        from_code=read.text("From"),
        to_code=read.text("To"),
        box_code=read.text("Box"),
        certificate_type=read.parsed("CertificateType", int),
        certificate_status=read.parsed("CertificateStatus", int),
        nppo_certificate_number=read.text("NPPOCertificateNumber"),
        content_sha256=read.text("ContentSHA256"),
        seal_sha256=read.optional("SealSHA256"),
        accepted_at=read.parsed("AcceptedAt", documents.parse_xs_datetime),
        acknowledged_by=read.text("AcknowledgedBy"),
        acknowledged_at=read.parsed("AcknowledgedAt", documents.parse_xs_datetime),
        tracking_info=read.text("TrackingInfo"),
        message=read.optional("Message"),
    )


def verify_receipt(
    data: bytes, *, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> ReceiptFacts:
    """Check a receipt against the hub's seal certificate(s) and return what it states."""
    root = parse_untrusted(data, field="receipt")
    verified = verify_enveloped(root, certificates=certificates, now=now)
    return read_receipt(verified.document)
