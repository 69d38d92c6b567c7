"""What the hub reads from a certificate's content: just the facts routing rules need.

The content was parsed by the hardened parser already; these are cheap look-ups on that tree.
"""

from dataclasses import dataclass

from lxml import etree

from ephyto_core._namespaces import ACK, RAM, RSM

_ROOT = f"{{{RSM}}}SPSCertificate"
_ACK_ROOT = f"{{{ACK}}}SPSAcknowledgement"
_DOC = f"{{{RSM}}}SPSExchangedDocument"


@dataclass(frozen=True, kw_only=True, slots=True)
class CertificateFacts:
    certificate_number: str | None
    type_code: str | None
    status_code: str | None
    #: From the `ADRPN` note: the number of the certificate this one replaces.
    replaces_number: str | None


def is_certificate(root: etree._Element) -> bool:
    return root.tag == _ROOT


def is_acknowledgement(root: etree._Element) -> bool:
    return root.tag == _ACK_ROOT


def certificate_facts(root: etree._Element) -> CertificateFacts:
    document = root.find(_DOC)
    if document is None:
        return CertificateFacts(
            certificate_number=None, type_code=None, status_code=None, replaces_number=None
        )
    replaces = None
    for note in document.iterfind(f"{{{RAM}}}IncludedSPSNote"):
        if _text(note, "Subject") == "ADRPN":
            replaces = _text(note, "Content")
            break
    return CertificateFacts(
        certificate_number=_text(document, "ID"),
        type_code=_text(document, "TypeCode"),
        status_code=_text(document, "StatusCode"),
        replaces_number=replaces,
    )


def _text(parent: etree._Element, local_name: str) -> str | None:
    child = parent.find(f"{{{RAM}}}{local_name}")
    if child is None or child.text is None:
        return None
    return child.text.strip() or None
