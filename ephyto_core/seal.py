"""Checking what the hub signed, as a *receiver* does: its seals, and NPPO content signatures.

A national system that pulls an envelope gets, beside the content, the hub's seal: a small XML
document (namespace ``urn:ephyto:hub:signatures:1``) with an enveloped XMLDSig signature stating
the delivery number, the header, the acceptance time and the SHA-256 of the content bytes. This
module is the receiver's half of that contract, with nothing of the hub's internals: a national
system (GeNS among them) checks

1. the signature, against the hub's seal certificate it trusts (pinned, or fetched from the hub
   over verified TLS) — :func:`verify_seal`;
2. that the header and the content bytes it holds are the ones sealed — :func:`seal_differences`,
   or both steps at once with :func:`verify_sealed_envelope`.

The XMLDSig profile is the hub's (``hub/signing/xmldsig.py`` signs with it): one enveloped
signature, a direct child of the document element, one ``Reference URI=""`` with only the
enveloped and canonicalisation transforms, RSA/ECDSA with SHA-256/384/512, and the key taken only
from the certificates the caller trusts. :func:`verify_enveloped` applies the same profile to an
NPPO's signature over its certificate content. What a caller may read afterwards is only the
verified tree it returns.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    VerifyResult,
    XMLVerifier,
)
from signxml.exceptions import SignXMLException

from ephyto_core._errors import EphytoError
from ephyto_core._namespaces import XMLDSIG
from ephyto_core._pki import fingerprint_sha256
from ephyto_core._safexml import parse_untrusted

__all__ = [
    "SEAL_NAMESPACE",
    "SealFacts",
    "SignatureInvalid",
    "Verified",
    "content_sha256",
    "find_signatures",
    "seal_differences",
    "verify_enveloped",
    "verify_seal",
    "verify_sealed_envelope",
]

SEAL_NAMESPACE: Final = "urn:ephyto:hub:signatures:1"
_SEAL_VERSION: Final = "1"
_ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_C14N_METHODS: Final = frozenset(
    {
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2006/12/xml-c14n11",
        "http://www.w3.org/2006/12/xml-c14n11#WithComments",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    }
)
_DS: Final = f"{{{XMLDSIG}}}"
_NS: Final = {"ds": XMLDSIG}
_STRICT: Final = SignatureConfiguration(
    require_x509=True,
    location="./",
    expect_references=1,
    signature_methods=frozenset(
        {
            SignatureMethod.RSA_SHA256,
            SignatureMethod.RSA_SHA384,
            SignatureMethod.RSA_SHA512,
            SignatureMethod.ECDSA_SHA256,
            SignatureMethod.ECDSA_SHA384,
            SignatureMethod.ECDSA_SHA512,
        }
    ),
    digest_algorithms=frozenset(
        {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
    ),
)

T = TypeVar("T")


class SignatureInvalid(EphytoError):
    """A signature that is missing, outside the profile, does not verify, or does not match."""

    code = "signature_invalid"


@dataclass(frozen=True, slots=True)
class Verified:
    """The signed document element without its signature (the only tree to read) and its
    signer."""

    document: etree._Element
    certificate: x509.Certificate

    @property
    def signer_fingerprint(self) -> str:
        return fingerprint_sha256(self.certificate)


@dataclass(frozen=True, slots=True, kw_only=True)
class SealFacts:
    """What a verified hub seal states."""

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
    #: SHA-256 fingerprint of the NPPO signing certificate the hub verified, if any.
    content_signed_by: str | None = None


def content_sha256(content: bytes) -> str:
    """The digest a seal states: lower-case hex SHA-256 of the content bytes as pulled."""
    return hashlib.sha256(content).hexdigest()


def find_signatures(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{_DS}Signature"))


def verify_enveloped(
    root: etree._Element, *, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> Verified:
    """Check ``root``'s one enveloped signature against each trusted certificate in turn.

    ``root`` must come from a hardened parse (``parse_untrusted``/``parse_content``). Raises
    :class:`SignatureInvalid` saying why.
    """
    signature = _the_signature(root)
    _check_signed_info(signature)
    if not certificates:
        raise SignatureInvalid("no certificate is trusted to have made this signature")
    config = replace(_STRICT, verification_time=now or datetime.now(UTC))
    reasons = []
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(
                root, x509_cert=certificate, parser=_parser(), expect_config=config
            )
        except (SignXMLException, etree.LxmlError, ValueError) as exc:
            reasons.append(f"{fingerprint_sha256(certificate)[:16]}...: {exc}")
            continue
        if not isinstance(result, VerifyResult) or result.signed_xml is None:
            raise SignatureInvalid("the signature does not cover exactly one document")
        document = result.signed_xml
        if document.tag != root.tag or _elements(document) != _elements(root) - _elements(
            signature
        ):
            raise SignatureInvalid("the signature does not cover the whole document")
        _check_key_info(signature, certificate)
        return Verified(document=document, certificate=certificate)
    raise SignatureInvalid("the signature does not verify: " + "; ".join(reasons))


def verify_seal(
    data: bytes, *, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> SealFacts:
    """Check a seal document against the hub's seal certificate(s); return what it states."""
    root = parse_untrusted(data, field="seal")
    return _read_seal(verify_enveloped(root, certificates=certificates, now=now).document)


def seal_differences(
    facts: SealFacts,
    *,
    content: bytes,
    hub_delivery_number: str | None = None,
    from_code: str | None = None,
    to_code: str | None = None,
    certificate_type: int | None = None,
    certificate_status: int | None = None,
    nppo_certificate_number: str | None = None,
) -> list[str]:
    """Where an envelope as received departs from what the hub sealed (empty: nowhere).

    The content is always compared; each header field only when given.
    """
    found = []
    digest = content_sha256(content)
    if digest != facts.content_sha256:
        found.append(f"content SHA-256 is {digest}, the seal says {facts.content_sha256}")
    for name, received, sealed in (
        ("hubDeliveryNumber", hub_delivery_number, facts.hub_delivery_number),
        ("From", from_code, facts.from_code),
        ("To", to_code, facts.to_code),
        ("CertificateType", certificate_type, facts.certificate_type),
        ("CertificateStatus", certificate_status, facts.certificate_status),
        ("NPPOCertificateNumber", nppo_certificate_number, facts.nppo_certificate_number),
    ):
        if received is not None and received != sealed:
            found.append(f"{name} is {received!r}, the seal says {sealed!r}")
    return found


def verify_sealed_envelope(
    seal: bytes,
    *,
    content: bytes,
    certificates: Sequence[x509.Certificate],
    now: datetime | None = None,
    hub_delivery_number: str | None = None,
    from_code: str | None = None,
    to_code: str | None = None,
    certificate_type: int | None = None,
    certificate_status: int | None = None,
    nppo_certificate_number: str | None = None,
) -> SealFacts:
    """:func:`verify_seal`, then :func:`seal_differences`; raises :class:`SignatureInvalid`
    naming every difference."""
    facts = verify_seal(seal, certificates=certificates, now=now)
    found = seal_differences(
        facts,
        content=content,
        hub_delivery_number=hub_delivery_number,
        from_code=from_code,
        to_code=to_code,
        certificate_type=certificate_type,
        certificate_status=certificate_status,
        nppo_certificate_number=nppo_certificate_number,
    )
    if found:
        raise SignatureInvalid("the envelope is not what the hub sealed: " + "; ".join(found))
    return facts


# --- internals ---------------------------------------------------------------------------------


def _the_signature(root: etree._Element) -> etree._Element:
    signatures = find_signatures(root)
    if len(signatures) != 1:
        raise SignatureInvalid(
            f"the document holds {len(signatures)} ds:Signature elements; exactly one is accepted"
        )
    if signatures[0].getparent() is not root:
        raise SignatureInvalid("the ds:Signature must be a direct child of the document element")
    return signatures[0]


def _check_signed_info(signature: etree._Element) -> None:
    references = signature.findall("ds:SignedInfo/ds:Reference", _NS)
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureInvalid('the signature must have exactly one reference, URI=""')
    algorithms = [
        t.get("Algorithm") for t in references[0].findall("ds:Transforms/ds:Transform", _NS)
    ]
    if _ENVELOPED not in algorithms:
        raise SignatureInvalid("the reference lacks the enveloped-signature transform")
    for algorithm in algorithms:
        if algorithm != _ENVELOPED and algorithm not in _C14N_METHODS:
            raise SignatureInvalid(f"transform {algorithm} is not accepted")
    if signature.find("ds:Object", _NS) is not None:
        raise SignatureInvalid("ds:Object inside the signature is not accepted")


def _check_key_info(signature: etree._Element, certificate: x509.Certificate) -> None:
    # KeyInfo is not covered by the signature: what it names must be the certificate that
    # verified, so it cannot be swapped unnoticed.
    first = signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS)
    if first is None:
        return
    named = "".join((first.text or "").split())
    if named != base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii"):
        raise SignatureInvalid("KeyInfo names another certificate than the one that verified")


def _elements(element: etree._Element) -> int:
    return sum(1 for _ in element.iter(etree.Element))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _read_seal(document: etree._Element) -> SealFacts:
    if document.tag != f"{{{SEAL_NAMESPACE}}}EnvelopeSeal":
        raise SignatureInvalid(f"expected a signed EnvelopeSeal, found {document.tag}")
    if document.get("Version") != _SEAL_VERSION:
        raise SignatureInvalid(f"seal version {document.get('Version')!r} is not known")

    def optional(local: str) -> str | None:
        child = document.find(f"{{{SEAL_NAMESPACE}}}{local}")
        return None if child is None else (child.text or "")

    def text(local: str) -> str:
        value = optional(local)
        if value is None:
            raise SignatureInvalid(f"the seal has no {local}")
        return value

    def parsed(local: str, parse: Callable[[str], T]) -> T:
        value = text(local)
        try:
            return parse(value)
        except ValueError as exc:
            raise SignatureInvalid(f"seal {local} {value!r} is malformed") from exc

    return SealFacts(
        hub_delivery_number=text("HubDeliveryNumber"),
        kind=text("Kind"),
        from_code=text("From"),
        to_code=text("To"),
        box_code=text("Box"),
        certificate_type=parsed("CertificateType", int),
        certificate_status=parsed("CertificateStatus", int),
        nppo_certificate_number=text("NPPOCertificateNumber"),
        accepted_at=parsed(
            "AcceptedAt",
            lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        ),
        content_sha256=text("ContentSHA256"),
        content_signed_by=optional("ContentSignedBy"),
    )
