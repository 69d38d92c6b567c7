"""Read SPSCertificate XML back into a :class:`~ephyto_core.certificate.model.Certificate`.

The reader takes a *trusted* tree (parsed by the hardened parser, or written by our builder) and is
deliberately forgiving about its shape, because real national systems send loose documents:

- children are matched by local name, in any order and with any namespace prefix (or none);
- a part whose required value cannot be read (a package without a numeric ``LevelCode``, a
  transport movement without a ``ModeCode``) is left out; an optional value that cannot be read
  (a malformed date, a non-numeric measure, bad base64) becomes ``None``;
- a date-time without an offset, or a bare date, is taken as UTC;
- elements the profile does not know are ignored.

Only a tree that is not an ``SPSCertificate`` at all, or that lacks the document's ``TypeCode`` or
``StatusCode`` (nothing can route or display it), raises :class:`CertificateReadError`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from lxml import etree

from ephyto_core._errors import EphytoError
from ephyto_core.certificate.model import (
    AppliedProcess,
    Attachment,
    Certificate,
    Classification,
    Clause,
    Code,
    Consignment,
    Country,
    ExchangedDocument,
    LineNote,
    Location,
    Measure,
    Note,
    OriginCountry,
    Package,
    Party,
    ProcessCharacteristic,
    ReferencedDocument,
    Signatory,
    Subdivision,
    Text,
    TradeLineItem,
    TransportEquipment,
    TransportMovement,
)

_Element = etree._Element
_T = TypeVar("_T")

_ADDRESS_LINES = ("LineOne", "LineTwo", "LineThree", "LineFour", "LineFive")


class CertificateReadError(EphytoError):
    """The XML is not a certificate we can read (wrong root, no type or status code)."""

    code = "certificate_unreadable"


def read_certificate(xml: bytes | etree._Element) -> Certificate:
    """The certificate in ``xml``: bytes (parsed here with a hardened parser) or an already
    parsed ``SPSCertificate`` element (e.g. the one embedded in an ``ePhytoEnvelope``)."""
    root = _parse(xml) if isinstance(xml, bytes) else xml
    if _local(root) != "SPSCertificate":
        raise CertificateReadError(
            f"expected an SPSCertificate element, found {_local(root) or root.tag!r}", field="/"
        )
    kids = _Children(root)
    return Certificate(
        document=_document(kids.first("SPSExchangedDocument")),
        consignment=_consignment(kids.first("SPSConsignment")),
    )


def _parse(xml: bytes) -> _Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise CertificateReadError(f"not well-formed XML: {exc}") from exc


# --- navigation ----------------------------------------------------------------------------------


def _local(el: _Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2]


class _Children:
    """An element's children grouped by local name, in document order (one pass per element)."""

    __slots__ = ("_by_name",)

    def __init__(self, el: _Element | None) -> None:
        by_name: dict[str, list[_Element]] = {}
        if el is not None:
            for child in el:
                name = _local(child)
                if name:
                    by_name.setdefault(name, []).append(child)
        self._by_name = by_name

    def all(self, name: str) -> Sequence[_Element]:
        return self._by_name.get(name, ())

    def first(self, name: str) -> _Element | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """The first such child's text verbatim; ``""`` if it is present but empty."""
        el = self.first(name)
        return None if el is None else (el.text or "")

    def stripped(self, name: str) -> str | None:
        """The first such child's text without surrounding whitespace; ``None`` if absent/empty."""
        el = self.first(name)
        if el is None or el.text is None:
            return None
        return el.text.strip() or None

    def texts(self, name: str) -> tuple[Text, ...]:
        return tuple(_text_of(el) for el in self.all(name))


def _text_of(el: _Element) -> Text:
    return Text(value=el.text or "", language=el.get("languageID"))


def _opt_text(el: _Element | None) -> Text | None:
    return None if el is None else _text_of(el)


def _keep(items: Sequence[_Element], read: Callable[[_Element], _T | None]) -> tuple[_T, ...]:
    out = []
    for el in items:
        value = read(el)
        if value is not None:
            out.append(value)
    return tuple(out)


# --- values --------------------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parse_datetime(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def _datetime(el: _Element | None) -> datetime | None:
    """A date-time wrapped in ``udt:DateTimeString`` or, loosely, written directly."""
    if el is None:
        return None
    wrapped = _Children(el).first("DateTimeString")
    return _parse_datetime((wrapped if wrapped is not None else el).text)


def _measure(el: _Element | None) -> Measure | None:
    if el is None:
        return None
    value = _decimal(el.text)
    return None if value is None else Measure(value=value, unit_code=el.get("unitCode"))


def _base64(text: str | None) -> bytes | None:
    compact = "".join((text or "").split())
    compact += "=" * (-len(compact) % 4)  # senders often drop the padding
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- SPSExchangedDocument ------------------------------------------------------------------------


def _document(el: _Element | None) -> ExchangedDocument:
    kids = _Children(el)
    type_code = _int(kids.stripped("TypeCode"))
    status_code = _int(kids.stripped("StatusCode"))
    if type_code is None or status_code is None:
        missing = "TypeCode" if type_code is None else "StatusCode"
        raise CertificateReadError(
            f"the certificate has no readable {missing}", field=f"SPSExchangedDocument/{missing}"
        )
    issuer = kids.first("IssuerSPSParty")
    signatory = kids.first("SignatorySPSAuthentication")
    return ExchangedDocument(
        name=kids.text("Name"),
        certificate_number=kids.text("ID") or "",
        type_code=type_code,
        status_code=status_code,
        issue_datetime=_datetime(kids.first("IssueDateTime")),
        issuer_name=None if issuer is None else _Children(issuer).text("Name"),
        notes=tuple(_note(n) for n in kids.all("IncludedSPSNote")),
        referenced_documents=tuple(
            _referenced_document(r) for r in kids.all("ReferenceSPSReferencedDocument")
        ),
        signatory=None if signatory is None else _signatory(signatory),
    )


def _note(el: _Element) -> Note:
    kids = _Children(el)
    content = kids.first("Content")
    return Note(
        subject=kids.text("Subject") or "",
        content=Text(value="") if content is None else _text_of(content),
    )


def _referenced_document(el: _Element) -> ReferencedDocument:
    kids = _Children(el)
    binary = kids.first("AttachmentBinaryObject")
    attachment = None
    if binary is not None:
        content = _base64(binary.text)
        if content is not None:
            attachment = Attachment(filename=binary.get("filename"), content=content)
    return ReferencedDocument(
        type_code=kids.text("TypeCode") or None,
        relationship_type_code=kids.text("RelationshipTypeCode"),
        id=kids.text("ID"),
        issue_datetime=_datetime(kids.first("IssueDateTime")),
        attachment=attachment,
        information=_opt_text(kids.first("Information")),
    )


def _signatory(el: _Element) -> Signatory:
    kids = _Children(el)
    place = kids.first("IssueSPSLocation")
    provider = kids.first("ProviderSPSParty")
    provider_kids = _Children(provider)
    person = provider_kids.first("SpecifiedSPSPerson")
    return Signatory(
        actual_datetime=_datetime(kids.first("ActualDateTime")),
        place_name=None if place is None else _Children(place).text("Name"),
        provider_name=provider_kids.text("Name"),
        person_name=None if person is None else _Children(person).text("Name"),
        clauses=_keep(kids.all("IncludedSPSClause"), _clause),
    )


def _clause(el: _Element) -> Clause | None:
    kids = _Children(el)
    clause_id = _int(kids.stripped("ID"))
    return None if clause_id is None else Clause(id=clause_id, content=kids.text("Content"))


# --- SPSConsignment ------------------------------------------------------------------------------


def _consignment(el: _Element | None) -> Consignment:
    kids = _Children(el)
    port = kids.first("UnloadingBaseportSPSLocation")
    equipment = kids.first("UtilizedSPSTransportEquipment")
    items = kids.all("IncludedSPSConsignmentItem")
    lines: list[TradeLineItem] = []
    cargo_type_code = None
    for item in items:
        item_kids = _Children(item)
        cargo = item_kids.first("NatureIdentificationSPSCargo")
        if cargo is not None and cargo_type_code is None:
            cargo_type_code = _Children(cargo).text("TypeCode")
        for line_el in item_kids.all("IncludedSPSTradeLineItem"):
            lines.append(_trade_line(line_el, position=len(lines) + 1))
    return Consignment(
        consignor=_party(kids.first("ConsignorSPSParty")),
        consignee=_party(kids.first("ConsigneeSPSParty")),
        export_country=_country(kids.first("ExportSPSCountry")),
        import_country=_country(kids.first("ImportSPSCountry")),
        transit_countries=_keep(kids.all("TransitSPSCountry"), _country),
        unloading_baseport=None if port is None else _location(port),
        examination_location_name=_examination_location(kids.first("ExaminationSPSEvent")),
        transport_movements=_keep(kids.all("MainCarriageSPSTransportMovement"), _movement),
        transport_equipment=None if equipment is None else _equipment(equipment),
        cargo_type_code=cargo_type_code,
        trade_line_items=tuple(lines),
    )


def _party(el: _Element | None) -> Party | None:
    if el is None:
        return None
    kids = _Children(el)
    address = _Children(kids.first("SpecifiedSPSAddress"))
    lines = (address.text(name) for name in _ADDRESS_LINES)
    return Party(
        name=kids.text("Name"),
        type_codes=tuple(
            Code(value=code.text or "", list_name=code.get("listName"))
            for code in kids.all("TypeCode")
        ),
        address_lines=tuple(line for line in lines if line is not None),
    )


def _country(el: _Element | None) -> Country | None:
    if el is None:
        return None
    kids = _Children(el)
    return Country(id=kids.text("ID") or "", name=kids.text("Name"))


def _location(el: _Element) -> Location:
    kids = _Children(el)
    return Location(id=kids.text("ID"), name=kids.text("Name"))


def _examination_location(event: _Element | None) -> str | None:
    if event is None:
        return None
    location = _Children(event).first("OccurrenceSPSLocation")
    # A present event always carries a location name when we write it; keep "" for an empty one.
    return "" if location is None else (_Children(location).text("Name") or "")


def _movement(el: _Element) -> TransportMovement | None:
    kids = _Children(el)
    mode = _int(kids.stripped("ModeCode"))
    if mode is None:
        return None
    means = kids.first("UsedSPSTransportMeans")
    return TransportMovement(
        mode_code=mode,
        id=kids.text("ID"),
        means_name=None if means is None else _Children(means).text("Name"),
    )


def _equipment(el: _Element) -> TransportEquipment:
    # The profile's ID here is unqualified; loose senders qualify it. Matching by local name
    # takes both.
    kids = _Children(el)
    seal = kids.first("AffixedSPSSeal")
    return TransportEquipment(
        id=kids.text("ID"),
        seal_id=None if seal is None else _Children(seal).text("ID"),
    )


# --- trade lines ---------------------------------------------------------------------------------


def _trade_line(el: _Element, *, position: int) -> TradeLineItem:
    kids = _Children(el)
    sequence = _int(kids.stripped("SequenceNumeric"))
    return TradeLineItem(
        # A line without a readable sequence number takes its 1-based position.
        sequence=position if sequence is None else sequence,
        descriptions=kids.texts("Description"),
        common_names=kids.texts("CommonName"),
        scientific_names=kids.texts("ScientificName"),
        intended_uses=kids.texts("IntendedUse"),
        net_weight=_measure(kids.first("NetWeightMeasure")),
        gross_weight=_measure(kids.first("GrossWeightMeasure")),
        net_volume=_measure(kids.first("NetVolumeMeasure")),
        gross_volume=_measure(kids.first("GrossVolumeMeasure")),
        additional_notes=tuple(_line_note(n) for n in kids.all("AdditionalInformationSPSNote")),
        classifications=tuple(_classification(c) for c in kids.all("ApplicableSPSClassification")),
        packages=_keep(kids.all("PhysicalSPSPackage"), _package),
        origin_countries=tuple(_origin(o) for o in kids.all("OriginSPSCountry")),
        treatments=tuple(_applied_process(p) for p in kids.all("AppliedSPSProcess")),
    )


def _line_note(el: _Element) -> LineNote:
    kids = _Children(el)
    return LineNote(subject=kids.text("Subject") or "", contents=kids.texts("Content"))


def _classification(el: _Element) -> Classification:
    kids = _Children(el)
    return Classification(
        system_name=kids.text("SystemName") or "",
        class_code=kids.text("ClassCode"),
        class_names=kids.texts("ClassName"),
    )


def _package(el: _Element) -> Package | None:
    kids = _Children(el)
    level = _int(kids.stripped("LevelCode"))
    quantity = _decimal(kids.stripped("ItemQuantity"))
    if level is None or quantity is None:
        return None
    return Package(level=level, quantity=quantity, type_code=kids.text("TypeCode"))


def _origin(el: _Element) -> OriginCountry:
    kids = _Children(el)
    sub = kids.first("SubordinateSPSCountrySubDivision")
    subdivision = None
    if sub is not None:
        sub_kids = _Children(sub)
        subdivision = Subdivision(
            name=sub_kids.text("Name"),
            hierarchical_level_code=sub_kids.text("HierarchicalLevelCode"),
        )
    return OriginCountry(id=kids.text("ID") or "", name=kids.text("Name"), subdivision=subdivision)


def _applied_process(el: _Element) -> AppliedProcess:
    kids = _Children(el)
    period = _Children(kids.first("CompletionSPSPeriod"))
    return AppliedProcess(
        type_code=kids.text("TypeCode"),
        start=_datetime(period.first("StartDateTime")),
        end=_datetime(period.first("EndDateTime")),
        duration=_measure(period.first("DurationMeasure")),
        characteristics=tuple(
            _characteristic(c) for c in kids.all("ApplicableSPSProcessCharacteristic")
        ),
    )


def _characteristic(el: _Element) -> ProcessCharacteristic:
    kids = _Children(el)
    descriptions = kids.all("Description")
    return ProcessCharacteristic(
        code=(descriptions[0].text or "") if descriptions else "",
        descriptions=tuple(_text_of(d) for d in descriptions[1:]),
        value=_measure(kids.first("ValueMeasure")),
    )
