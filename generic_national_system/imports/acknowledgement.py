"""The country response: an SPSAcknowledgement 17 that the importer sends back to the exporter.

Built with lxml in the hub profile's shape (``schemas/xsd/SPSAcknowledgement_17p0.xsd``) and
checked against that schema before it leaves; a received one is read after the hardened parse.

Status codes are UNECE Rec. 4405 (Status code, D16B): 39 "Approved", 41 "Rejected" — the list
the hub's own examples use.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from ephyto_core._namespaces import ACK, RAM, UDT
from ephyto_core._schemas import ACKNOWLEDGEMENT_ROOT, default_schema_set

ACCEPTED: Final = 39
REJECTED: Final = 41


class AcknowledgementInvalid(ValueError):
    """What we built does not pass the schema: a bug, never the user's fault."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    status: int
    reason: str | None
    issued_at: datetime | None


def build_acknowledgement(
    *,
    status: int,
    reason: str | None,
    language: str,
    certificate_number: str,
    certificate_type: int,
    certificate_issued_at: datetime | None,
    now: datetime | None = None,
) -> bytes:
    """The SPSAcknowledgement answering certificate `certificate_number`, schema-checked."""
    nsmap = {"ack": ACK, "ram": RAM, "udt": UDT}
    root = etree.Element(f"{{{ACK}}}SPSAcknowledgement", nsmap=nsmap)
    document = etree.SubElement(root, f"{{{ACK}}}SPSAcknowledgementDocument")
    _datetime(document, now or datetime.now(UTC))
    etree.SubElement(document, f"{{{RAM}}}StatusCode").text = str(status)
    if reason:
        information = etree.SubElement(document, f"{{{RAM}}}ReasonInformation")
        information.set("languageID", language)
        information.text = reason
    reference = etree.SubElement(document, f"{{{RAM}}}ReferenceSPSReferencedDocument")
    if certificate_issued_at is not None:
        _datetime(reference, certificate_issued_at)
    etree.SubElement(reference, f"{{{RAM}}}TypeCode").text = str(certificate_type)
    etree.SubElement(reference, f"{{{RAM}}}ID").text = certificate_number
    schema = default_schema_set().acknowledgement
    if not schema.validate(root):
        raise AcknowledgementInvalid(str(schema.error_log))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def read_acknowledgement(root: etree._Element) -> Response | None:
    """Status, reason and time of an (already safely parsed) acknowledgement; None if it is not
    one or carries no status."""
    if root.tag != ACKNOWLEDGEMENT_ROOT:
        return None
    document = root.find(f"{{{ACK}}}SPSAcknowledgementDocument")
    if document is None:
        return None
    status = (document.findtext(f"{{{RAM}}}StatusCode") or "").strip()
    if not status.isdigit():
        return None
    reason = document.findtext(f"{{{RAM}}}ReasonInformation")
    stamp = document.findtext(f"{{{RAM}}}IssueDateTime/{{{UDT}}}DateTimeString")
    return Response(status=int(status), reason=reason, issued_at=_parse(stamp))


def _datetime(parent: etree._Element, moment: datetime) -> None:
    issued = etree.SubElement(parent, f"{{{RAM}}}IssueDateTime")
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(issued, f"{{{UDT}}}DateTimeString").text = stamp


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
