"""NPPO content signatures: an XMLDSig inside ``rsm:SPSCertificate``, checked per NPPO policy.

The hub profile's schema has no place for ``ds:Signature``, yet a signed certificate is still a
valid certificate: what the hub validates, and reads routing facts from, is the document *without*
its signature. When the policy has the hub check the signature, that document is the tree the
verification returns (the whole document element minus the signature, rebuilt from the bytes the
digest covered), never the tree that came in. The stored content stays byte for byte what the
sender sent, signature included, so the importer can check it again itself.

Which certificates count: the sender NPPO's signing certificates in the registry that are valid
now (the hub has no trusted signing time; "now" is the acceptance time). Two may be valid at once
while an NPPO rolls its key over.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import load_certificate
from hub.errors import DeliveryRefused
from hub.nppos import repository as nppo_repository
from hub.nppos.domain import ContentSignaturePolicy
from hub.nppos.models import SigningCertificate
from hub.nppos.registry import NppoEntry
from hub.signing.xmldsig import SignatureInvalid, find_signatures, verify_enveloped


@dataclass(frozen=True, slots=True)
class ContentCheck:
    """What to validate and route on, and whose verified signature it carried (if any)."""

    document: etree._Element
    #: SHA-256 fingerprint of the registered signing certificate that verified, or None.
    signed_by: str | None = None


def without_root_signature(root: etree._Element) -> etree._Element:
    """The document without a ``ds:Signature`` child of its root (a copy; ``root`` is kept).

    For validation only, where nothing is claimed about the signature: signatures anywhere else
    are left for the schema to report.
    """
    signatures = [s for s in find_signatures(root) if s.getparent() is root]
    if not signatures:
        return root
    document = copy.deepcopy(root)
    for signature in find_signatures(document):
        if signature.getparent() is document:
            document.remove(signature)
    return document


async def check_content_signature(
    session: AsyncSession, *, sender: NppoEntry, root: etree._Element, now: datetime
) -> ContentCheck:
    """Apply ``sender``'s policy; raise ``DeliveryRefused`` naming the reason when it refuses."""
    policy = ContentSignaturePolicy(sender.content_signature)
    if policy is ContentSignaturePolicy.NONE:
        return ContentCheck(document=without_root_signature(root))
    if not find_signatures(root):
        if policy is ContentSignaturePolicy.REQUIRED:
            raise DeliveryRefused(
                f"{sender.code} signs its certificates (content signature policy: required), "
                "but this content has no ds:Signature",
                field="Content",
            )
        return ContentCheck(document=root)
    registered = await nppo_repository.signing_certificates(session, sender.id)
    valid = _valid_at(registered, now)
    if not valid:
        raise DeliveryRefused(
            f"the content is signed, but {sender.code} has no signing certificate registered "
            "on the hub that is valid now",
            field="Content",
        )
    try:
        verified = verify_enveloped(root, certificates=valid, now=now)
    except SignatureInvalid as exc:
        raise DeliveryRefused(
            f"the content signature of {sender.code} is refused: {exc.message}", field="Content"
        ) from exc
    return ContentCheck(document=verified.document, signed_by=verified.signer_fingerprint)


def _valid_at(records: Sequence[SigningCertificate], now: datetime) -> list[x509.Certificate]:
    # Newest first: during a rollover the new key is the likelier signer.
    current = [r for r in records if r.not_before <= now < r.not_after]
    current.sort(key=lambda r: r.not_before, reverse=True)
    return [load_certificate(r.der) for r in current]
