"""XML <-> domain types for IDeliveryService, in the element forms the live WSDL fixes.

Namespaces and forms, as the hub's embedded schemas declare them:

- operation wrappers, their parameters and results (``env``, ``hubTrackingNumber``,
  ``DeliverEnvelopeResult``, ``return``, the code-list row elements ...) are in
  ``http://ephyto.ippc.int/`` (elementFormDefault="qualified");
- the entities' children (``From``, ``Content``, ``Country``, ``Code`` ...) are in
  ``http://ephyto.ippc.int/HUB.Entities`` (each declared form="qualified");
- the children of code-list rows, of ``ValidationResult``, ``AllowedDocument`` and ``Signature``
  are unqualified (form="unqualified"): no namespace at all.

Readers refuse what they cannot map, with the element's path and the reason; they never guess.
"""

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from ephyto_core._namespaces import ACK, HUB, HUB_ENTITIES, RSM, SOAP_ENV
from ephyto_core._validation_result import ValidationResult
from hub.envelopes.domain import Envelope, EnvelopeHeader, Forwarding, TrackingState
from hub.nppos.domain import ChannelInfo, NppoProfile
from hub.soap.faults import SoapFault, xml_safe

_XSI_NIL: Final = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1

#: Prefixes we write; readers go by namespace only.
NSMAP: Final[dict[str, str]] = {"hub": HUB, "ent": HUB_ENTITIES}


def hub(local: str) -> str:
    return f"{{{HUB}}}{local}"


def ent(local: str) -> str:
    return f"{{{HUB_ENTITIES}}}{local}"


# ------------------------------------------------------------------------------------ reading


class Children:
    """The child elements of one complex element, checked against the names its type allows."""

    def __init__(
        self,
        parent: etree._Element,
        *,
        path: str,
        allowed: Iterable[str],
        repeatable: Iterable[str] = (),
    ) -> None:
        self.path = path
        allowed = tuple(allowed)
        repeatable = frozenset(repeatable)
        self._found: dict[str, list[etree._Element]] = {name: [] for name in allowed}
        if parent.text is not None and parent.text.strip():
            raise SoapFault("expected elements, found text", field=path)
        for child in parent:
            if not isinstance(child.tag, str):
                continue  # comment or processing instruction
            if child.tag not in self._found:
                raise SoapFault(_unexpected(child, allowed), field=path)
            found = self._found[child.tag]
            if found and child.tag not in repeatable:
                raise SoapFault(
                    f"{_display(child.tag)} appears more than once", field=self.field(child.tag)
                )
            found.append(child)

    def field(self, name: str) -> str:
        return f"{self.path}/{_display(name)}"

    def element(self, name: str, *, required: bool) -> etree._Element | None:
        found = self._found[name]
        element = found[0] if found and found[0].get(_XSI_NIL) not in ("true", "1") else None
        if element is None and required:
            raise SoapFault("required element is missing", field=self.field(name))
        return element

    def elements(self, name: str) -> list[etree._Element]:
        return [e for e in self._found[name] if e.get(_XSI_NIL) not in ("true", "1")]

    def text(self, name: str, *, required: bool) -> str | None:
        element = self.element(name, required=required)
        return None if element is None else text_of(element, field=self.field(name))

    def required_text(self, name: str) -> str:
        text = self.text(name, required=True)
        assert text is not None
        return text

    def integer(self, name: str, *, required: bool) -> int | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        return parse_int(text, field=self.field(name))


def text_of(element: etree._Element, *, field: str) -> str:
    """An xs:string element's value; an element where text belongs is refused, not flattened."""
    for child in element:
        if isinstance(child.tag, str):
            raise SoapFault(
                f"expected text, found the element {_display(child.tag)}; XML inside a string "
                "must be escaped, wrapped in CDATA or base64-encoded",
                field=field,
            )
    # Comments or processing instructions may split the text; CDATA sections arrive as text.
    return "".join(str(part) for part in element.itertext())


def parse_int(text: str, *, field: str) -> int:
    stripped = text.strip()  # xs:int collapses whitespace
    digits = stripped[1:] if stripped[:1] in ("+", "-") else stripped
    if not digits.isascii() or not digits.isdigit():
        raise SoapFault(f"expected an integer (xs:int), found {_clip(text)!r}", field=field)
    # Length first: int() of a few thousand digits is slow, and refused by Python past 4,300.
    value = int(stripped) if len(digits.lstrip("0")) <= 10 else None
    if value is None or not _INT_MIN <= value <= _INT_MAX:
        raise SoapFault(f"{_clip(stripped)} is out of the xs:int range", field=field)
    return value


_HEADER_FIELDS: Final = tuple(
    ent(n)
    for n in (
        "From",
        "To",
        "CertificateType",
        "CertificateStatus",
        "NPPOCertificateNumber",
        "hubDeliveryNumber",
        "HUBTrackingInfo",
        "hubDeliveryErrorMessage",
        "Forwardings",
    )
)


def read_header(children: Children) -> EnvelopeHeader:
    """The EnvelopeHeader part of an EnvelopeHeader, Envelope, ePhytoEnvelope or
    CountryResponseEnvelope; `children` must allow the header's element names."""
    certificate_type = children.integer(ent("CertificateType"), required=True)
    certificate_status = children.integer(ent("CertificateStatus"), required=True)
    assert certificate_type is not None and certificate_status is not None
    return EnvelopeHeader(
        from_code=children.required_text(ent("From")),
        to_code=children.required_text(ent("To")),
        certificate_type=certificate_type,
        certificate_status=certificate_status,
        nppo_certificate_number=children.required_text(ent("NPPOCertificateNumber")),
        hub_delivery_number=_blank_is_none(children.text(ent("hubDeliveryNumber"), required=False)),
        tracking_info=_tracking_state(children),
        error_message=children.text(ent("hubDeliveryErrorMessage"), required=False),
        forwardings=_forwardings(children),
    )


def read_envelope_header(element: etree._Element, *, path: str) -> EnvelopeHeader:
    return read_header(Children(element, path=path, allowed=_HEADER_FIELDS))


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmittedEnvelope:
    header: EnvelopeHeader
    content: str | bytes


def read_envelope(element: etree._Element, *, path: str) -> SubmittedEnvelope:
    """An ``Envelope``: header + ``Content``, passed on as the text the sender wrote (escaped,
    CDATA or base64); the service decodes it."""
    children = Children(element, path=path, allowed=(*_HEADER_FIELDS, ent("Content")))
    header = read_header(children)
    content = children.required_text(ent("Content"))
    if not content.strip():
        raise SoapFault(
            "Content is empty; it carries the certificate XML (escaped, CDATA or base64)",
            field=children.field(ent("Content")),
        )
    return SubmittedEnvelope(header=header, content=content)


def read_phyto_envelope(element: etree._Element, *, path: str) -> SubmittedEnvelope:
    """An ``ePhytoEnvelope``: header + the certificate as an embedded ``rsm:SPSCertificate``,
    serialized with its in-scope namespace declarations (QName values inside still resolve)."""
    certificate = f"{{{RSM}}}SPSCertificate"
    children = Children(element, path=path, allowed=(*_HEADER_FIELDS, certificate))
    header = read_header(children)
    embedded = children.element(certificate, required=True)
    assert embedded is not None
    _drop_envelope_type_annotation(embedded, "SPSCertificate")
    return SubmittedEnvelope(header=header, content=serialize_element(embedded))


def read_country_response(element: etree._Element, *, path: str) -> SubmittedEnvelope:
    acknowledgement = f"{{{ACK}}}SPSAcknowledgement"
    children = Children(element, path=path, allowed=(*_HEADER_FIELDS, acknowledgement))
    header = read_header(children)
    embedded = children.element(acknowledgement, required=True)
    assert embedded is not None
    _drop_envelope_type_annotation(embedded, "SPSAcknowledgement")
    return SubmittedEnvelope(header=header, content=serialize_element(embedded))


_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _drop_envelope_type_annotation(embedded: etree._Element, hub_type: str) -> None:
    """Remove an ``xsi:type`` naming the live WSDL's own type for the embedded document.

    Clients generated from the live WSDL (zeep, JAXB) annotate the embedded root with the hub's
    type name (``{http://ephyto.ippc.int/}SPSAcknowledgement``): a fact about the envelope
    schema, not part of the certificate or acknowledgement, and a name the document's own
    schema does not know. Any other ``xsi:type`` stays and is judged by validation.
    """
    value = embedded.get(_XSI_TYPE)
    if value is None:
        return
    prefix, _, local = value.strip().rpartition(":")
    if local == hub_type and embedded.nsmap.get(prefix or None) == HUB:
        del embedded.attrib[_XSI_TYPE]


def serialize_element(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8", with_tail=False)


def _tracking_state(children: Children) -> TrackingState | None:
    text = _blank_is_none(children.text(ent("HUBTrackingInfo"), required=False))
    if text is None:
        return None
    try:
        return TrackingState(text.strip())
    except ValueError:
        allowed = ", ".join(s.value for s in TrackingState)
        raise SoapFault(
            f"{_clip(text)!r} is not a tracking state; expected one of {allowed}",
            field=children.field(ent("HUBTrackingInfo")),
        ) from None


def _forwardings(children: Children) -> tuple[Forwarding, ...]:
    array = children.element(ent("Forwardings"), required=False)
    if array is None:
        return ()
    path = children.field(ent("Forwardings"))
    items = Children(
        array,
        path=path,
        allowed=(ent("EnvelopeForwarding"),),
        repeatable=(ent("EnvelopeForwarding"),),
    )
    forwardings = []
    for position, item in enumerate(items.elements(ent("EnvelopeForwarding")), start=1):
        fields = Children(
            item,
            path=f"{path}/EnvelopeForwarding[{position}]",
            allowed=(ent("Code"), ent("HubDeliveryNumber")),
        )
        forwardings.append(
            Forwarding(
                code=fields.required_text(ent("Code")),
                hub_delivery_number=_blank_is_none(
                    fields.text(ent("HubDeliveryNumber"), required=False)
                ),
            )
        )
    return tuple(forwardings)


def _blank_is_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _display(clark: str) -> str:
    return etree.QName(clark).localname


def _unexpected(child: etree._Element, allowed: Sequence[str]) -> str:
    name = etree.QName(child)
    for expected in allowed:
        if etree.QName(expected).localname == name.localname:
            want = etree.QName(expected).namespace
            return (
                f"{name.localname} must be in namespace {want or '(none)'}, "
                f"found it in {name.namespace or '(no namespace)'}"
            )
    names = ", ".join(_display(a) for a in allowed) or "nothing"
    return f"unexpected element {child.tag}; allowed here: {names}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ------------------------------------------------------------------------------------ writing


def soap_envelope(response: etree._Element, *, headers: Sequence[etree._Element] = ()) -> bytes:
    """A SOAP 1.1 answer with `response` (an operation's response element) as the Body and
    `headers` (header blocks such as the hub's seals, `hub.soap.signatures`) in a Header."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    if headers:
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header").extend(headers)
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(response)
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=True)


def add_text(parent: etree._Element, tag: str, text: str | None) -> etree._Element | None:
    """A child with text; nothing for None (every optional element is minOccurs="0")."""
    if text is None:
        return None
    child = etree.SubElement(parent, tag)
    child.text = xml_safe(text)
    return child


def write_header_fields(parent: etree._Element, header: EnvelopeHeader) -> None:
    add_text(parent, ent("From"), header.from_code)
    add_text(parent, ent("To"), header.to_code)
    add_text(parent, ent("CertificateType"), str(header.certificate_type))
    add_text(parent, ent("CertificateStatus"), str(header.certificate_status))
    add_text(parent, ent("NPPOCertificateNumber"), header.nppo_certificate_number)
    add_text(parent, ent("hubDeliveryNumber"), header.hub_delivery_number)
    if header.tracking_info is not None:
        add_text(parent, ent("HUBTrackingInfo"), header.tracking_info.value)
    add_text(parent, ent("hubDeliveryErrorMessage"), header.error_message)
    if header.forwardings:
        array = etree.SubElement(parent, ent("Forwardings"))
        for forwarding in header.forwardings:
            item = etree.SubElement(array, ent("EnvelopeForwarding"))
            add_text(item, ent("Code"), forwarding.code)
            add_text(item, ent("HubDeliveryNumber"), forwarding.hub_delivery_number)


def write_header(parent: etree._Element, tag: str, header: EnvelopeHeader) -> etree._Element:
    element = etree.SubElement(parent, tag)
    write_header_fields(element, header)
    return element


def write_headers(parent: etree._Element, tag: str, headers: Iterable[EnvelopeHeader]) -> None:
    """An ArrayOfEnvelopeHeader; written even when empty, so clients get a list, not null."""
    array = etree.SubElement(parent, tag)
    for header in headers:
        write_header(array, ent("EnvelopeHeader"), header)


def write_envelope(parent: etree._Element, tag: str, envelope: Envelope) -> etree._Element:
    element = write_header(parent, tag, envelope.header)
    etree.SubElement(element, ent("Content")).text = content_text(envelope.content)
    return element


def write_envelopes(parent: etree._Element, tag: str, envelopes: Iterable[Envelope]) -> None:
    array = etree.SubElement(parent, tag)
    for envelope in envelopes:
        write_envelope(array, ent("Envelope"), envelope)


def content_text(content: bytes) -> str:
    """Stored content as the ``Content`` string: the XML itself (escaped by the serializer).

    Content that is not UTF-8, or holds characters XML 1.0 cannot carry, goes out base64-encoded,
    one of the three forms the contract lets senders use, rather than altered.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(content).decode("ascii")
    return text if xml_safe(text) == text else base64.b64encode(content).decode("ascii")


def write_validation_results(parent: etree._Element, results: Iterable[ValidationResult]) -> None:
    for result in results:
        row = etree.SubElement(parent, hub("ValidationResult"))
        add_text(row, "area", str(result.area))
        add_text(row, "field", result.field)
        add_text(row, "level", str(result.level))
        add_text(row, "msg", result.msg)


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def write_nppo(parent: etree._Element, tag: str, profile: NppoProfile) -> etree._Element:
    """An ``Nppo``. ``Send`` and ``Receive`` are xs:string in the contract; we write the
    xs:boolean spellings ``true``/``false`` (inferred: no public sample shows the live values)."""
    element = etree.SubElement(parent, tag)
    add_text(element, ent("Country"), profile.code)
    add_text(element, ent("Receive"), _boolean(profile.can_receive))
    add_text(element, ent("Send"), _boolean(profile.can_send))
    for document in profile.allowed_documents:
        allowed = etree.SubElement(
            element, ent("AllowedDocument"), active=_boolean(document.active)
        )
        kind = etree.SubElement(allowed, "certificateType", number=str(document.certificate_type))
        if document.certificate_type_name is not None:
            kind.set("value", xml_safe(document.certificate_type_name))
        status = etree.SubElement(
            allowed, "certificateStatus", number=str(document.certificate_status)
        )
        if document.certificate_status_name is not None:
            status.set("value", xml_safe(document.certificate_status_name))
    if profile.signature is not None:
        signature = etree.SubElement(element, ent("Signature"))
        add_text(signature, "dn", profile.signature.dn)
        add_text(signature, "certificate", profile.signature.certificate)
    if profile.channel_rules:
        rules = etree.SubElement(element, ent("ChannelRules"))
        for rule in profile.channel_rules:
            etree.SubElement(
                rules,
                ent("ChannelRule"),
                id=str(rule.id),
                active=_boolean(rule.active),
                ruleType=rule.rule_type.value,
                certificateType=str(rule.certificate_type),
                certificateStatus=str(rule.certificate_status),
                countryCode=xml_safe(rule.country_code),
                direction=rule.direction.value,
            )
    return element


def write_nppos(parent: etree._Element, tag: str, profiles: Iterable[NppoProfile]) -> None:
    array = etree.SubElement(parent, tag)
    for profile in profiles:
        write_nppo(array, ent("Nppo"), profile)


def write_channels(parent: etree._Element, tag: str, channels: Iterable[ChannelInfo]) -> None:
    array = etree.SubElement(parent, tag)
    for channel in channels:
        element = etree.SubElement(
            array, ent("Channel"), Receive=_boolean(channel.receive), Send=_boolean(channel.send)
        )
        add_text(element, ent("Code"), channel.code)
        add_text(element, ent("Name"), channel.name)


def xs_datetime(value: datetime) -> str:
    return value.isoformat()
