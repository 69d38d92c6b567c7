"""Write a :class:`~ephyto_core.certificate.model.Certificate` as hub-valid SPSCertificate XML.

Element names, namespaces and order follow the hub's schema profile: ``SPSExchangedDocument`` and
``SPSConsignment`` in ``rsm``, everything below them in ``ram``, date-times wrapped in
``udt:DateTimeString``, and the two ``ID`` elements the profile leaves unqualified (in
``UtilizedSPSTransportEquipment`` and ``AffixedSPSSeal``) without a namespace.

Plain ``SubElement`` calls on precomputed Clark names: this runs for every document of the
benchmark corpora, so it avoids per-element ``QName`` objects and any schema round trip.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Final

from lxml import etree

from ephyto_core._namespaces import PREFIXES, RAM, RSM, UDT
from ephyto_core.certificate.model import (
    AppliedProcess,
    Certificate,
    Consignment,
    Country,
    ExchangedDocument,
    Measure,
    Party,
    ReferencedDocument,
    Signatory,
    Text,
    TradeLineItem,
)

_SubElement = etree.SubElement
_Element = etree._Element


def _ram(local: str) -> str:
    return f"{{{RAM}}}{local}"


_ROOT: Final = f"{{{RSM}}}SPSCertificate"
_EXCHANGED_DOCUMENT: Final = f"{{{RSM}}}SPSExchangedDocument"
_CONSIGNMENT: Final = f"{{{RSM}}}SPSConsignment"
_DATE_TIME_STRING: Final = f"{{{UDT}}}DateTimeString"
_LANGUAGE_ID: Final = "languageID"

_NAME = _ram("Name")
_ID = _ram("ID")
_TYPE_CODE = _ram("TypeCode")
_CONTENT = _ram("Content")
_SUBJECT = _ram("Subject")
_DESCRIPTION = _ram("Description")
_ADDRESS_LINES: Final = tuple(_ram(f"Line{n}") for n in ("One", "Two", "Three", "Four", "Five"))


def build_certificate_xml(cert: Certificate) -> bytes:
    """The certificate as UTF-8 XML bytes with an XML declaration and prefixes rsm/ram/udt/qdt."""
    return etree.tostring(build_certificate_element(cert), xml_declaration=True, encoding="UTF-8")


def build_certificate_element(cert: Certificate) -> etree._Element:
    """The certificate as an lxml element (for embedding, e.g. in an ``ePhytoEnvelope``)."""
    root = etree.Element(_ROOT, nsmap=PREFIXES)
    _document(_SubElement(root, _EXCHANGED_DOCUMENT), cert.document)
    _consignment(_SubElement(root, _CONSIGNMENT), cert.consignment)
    return root


# --- leaves --------------------------------------------------------------------------------------


def _leaf(parent: _Element, tag: str, text: str) -> _Element:
    el = _SubElement(parent, tag)
    el.text = text
    return el


def _opt(parent: _Element, tag: str, text: str | None) -> None:
    if text is not None:
        _SubElement(parent, tag).text = text


def _text(parent: _Element, tag: str, value: Text) -> None:
    el = _SubElement(parent, tag)
    el.text = value.value
    if value.language is not None:
        el.set(_LANGUAGE_ID, value.language)


def _texts(parent: _Element, tag: str, values: Iterable[Text]) -> None:
    for value in values:
        _text(parent, tag, value)


def _decimal(value: Decimal) -> str:
    # Fixed-point keeps the lexical form a valid xs:double and the Decimal value unchanged.
    return format(value, "f")


def _measure(parent: _Element, tag: str, measure: Measure | None) -> None:
    if measure is None:
        return
    el = _SubElement(parent, tag)
    el.text = _decimal(measure.value)
    if measure.unit_code is not None:
        el.set("unitCode", measure.unit_code)


def _datetime(parent: _Element, tag: str, value: datetime | None) -> None:
    if value is not None:
        _SubElement(_SubElement(parent, tag), _DATE_TIME_STRING).text = value.isoformat()


# --- SPSExchangedDocument ------------------------------------------------------------------------


def _document(el: _Element, doc: ExchangedDocument) -> None:
    _opt(el, _NAME, doc.name)
    _leaf(el, _ID, doc.certificate_number)
    _leaf(el, _TYPE_CODE, str(doc.type_code))
    _leaf(el, _ram("StatusCode"), str(doc.status_code))
    _datetime(el, _ram("IssueDateTime"), doc.issue_datetime)
    if doc.issuer_name is not None:
        _leaf(_SubElement(el, _ram("IssuerSPSParty")), _NAME, doc.issuer_name)
    note_tag = _ram("IncludedSPSNote")
    for note in doc.notes:
        note_el = _SubElement(el, note_tag)
        _leaf(note_el, _SUBJECT, note.subject)
        _text(note_el, _CONTENT, note.content)
    ref_tag = _ram("ReferenceSPSReferencedDocument")
    for ref in doc.referenced_documents:
        _referenced_document(_SubElement(el, ref_tag), ref)
    if doc.signatory is not None:
        _signatory(_SubElement(el, _ram("SignatorySPSAuthentication")), doc.signatory)


def _referenced_document(el: _Element, ref: ReferencedDocument) -> None:
    _datetime(el, _ram("IssueDateTime"), ref.issue_datetime)
    # TypeCode is mandatory in the profile; an unknown one is written empty.
    _SubElement(el, _TYPE_CODE).text = ref.type_code
    _opt(el, _ram("RelationshipTypeCode"), ref.relationship_type_code)
    _opt(el, _ID, ref.id)
    if ref.attachment is not None:
        att = _SubElement(el, _ram("AttachmentBinaryObject"))
        att.text = base64.b64encode(ref.attachment.content).decode("ascii")
        if ref.attachment.filename is not None:
            att.set("filename", ref.attachment.filename)
    if ref.information is not None:
        _text(el, _ram("Information"), ref.information)


def _signatory(el: _Element, sig: Signatory) -> None:
    _datetime(el, _ram("ActualDateTime"), sig.actual_datetime)
    if sig.place_name is not None:
        _leaf(_SubElement(el, _ram("IssueSPSLocation")), _NAME, sig.place_name)
    if sig.provider_name is not None or sig.person_name is not None:
        provider = _SubElement(el, _ram("ProviderSPSParty"))
        _opt(provider, _NAME, sig.provider_name)
        if sig.person_name is not None:
            _leaf(_SubElement(provider, _ram("SpecifiedSPSPerson")), _NAME, sig.person_name)
    clause_tag = _ram("IncludedSPSClause")
    for clause in sig.clauses:
        clause_el = _SubElement(el, clause_tag)
        _leaf(clause_el, _ID, str(clause.id))
        _opt(clause_el, _CONTENT, clause.content)


# --- SPSConsignment ------------------------------------------------------------------------------


def _party(parent: _Element, tag: str, party: Party | None) -> None:
    if party is None:
        return
    el = _SubElement(parent, tag)
    _opt(el, _NAME, party.name)
    for code in party.type_codes:
        code_el = _leaf(el, _TYPE_CODE, code.value)
        if code.list_name is not None:
            code_el.set("listName", code.list_name)
    if party.address_lines:
        address = _SubElement(el, _ram("SpecifiedSPSAddress"))
        for tag_name, line in zip(_ADDRESS_LINES, party.address_lines, strict=False):
            _leaf(address, tag_name, line)


def _country(parent: _Element, tag: str, country: Country | None) -> None:
    if country is None:
        return
    el = _SubElement(parent, tag)
    _leaf(el, _ID, country.id)
    _opt(el, _NAME, country.name)


def _consignment(el: _Element, con: Consignment) -> None:
    _party(el, _ram("ConsignorSPSParty"), con.consignor)
    _party(el, _ram("ConsigneeSPSParty"), con.consignee)
    _country(el, _ram("ExportSPSCountry"), con.export_country)
    _country(el, _ram("ImportSPSCountry"), con.import_country)
    transit_tag = _ram("TransitSPSCountry")
    for transit in con.transit_countries:
        _country(el, transit_tag, transit)
    if con.unloading_baseport is not None:
        port = _SubElement(el, _ram("UnloadingBaseportSPSLocation"))
        _opt(port, _ID, con.unloading_baseport.id)
        _opt(port, _NAME, con.unloading_baseport.name)
    if con.examination_location_name is not None:
        event = _SubElement(el, _ram("ExaminationSPSEvent"))
        location = _SubElement(event, _ram("OccurrenceSPSLocation"))
        _leaf(location, _NAME, con.examination_location_name)
    movement_tag = _ram("MainCarriageSPSTransportMovement")
    for movement in con.transport_movements:
        movement_el = _SubElement(el, movement_tag)
        _opt(movement_el, _ID, movement.id)
        _leaf(movement_el, _ram("ModeCode"), str(movement.mode_code))
        if movement.means_name is not None:
            _leaf(
                _SubElement(movement_el, _ram("UsedSPSTransportMeans")), _NAME, movement.means_name
            )
    if con.transport_equipment is not None:
        equipment = _SubElement(el, _ram("UtilizedSPSTransportEquipment"))
        # The profile declares these two IDs form="unqualified": no namespace.
        _opt(equipment, "ID", con.transport_equipment.id)
        if con.transport_equipment.seal_id is not None:
            _leaf(
                _SubElement(equipment, _ram("AffixedSPSSeal")),
                "ID",
                con.transport_equipment.seal_id,
            )
    if con.trade_line_items or con.cargo_type_code is not None:
        item = _SubElement(el, _ram("IncludedSPSConsignmentItem"))
        if con.cargo_type_code is not None:
            # Unqualified in the profile (the RABIE schema has no elementFormDefault).
            _leaf(
                _SubElement(item, "NatureIdentificationSPSCargo"), "TypeCode", con.cargo_type_code
            )
        line_tag = _ram("IncludedSPSTradeLineItem")
        for line in con.trade_line_items:
            _trade_line(_SubElement(item, line_tag), line)


def _trade_line(el: _Element, line: TradeLineItem) -> None:
    _leaf(el, _ram("SequenceNumeric"), str(line.sequence))
    _texts(el, _DESCRIPTION, line.descriptions)
    _texts(el, _ram("CommonName"), line.common_names)
    _texts(el, _ram("ScientificName"), line.scientific_names)
    _texts(el, _ram("IntendedUse"), line.intended_uses)
    _measure(el, _ram("NetWeightMeasure"), line.net_weight)
    _measure(el, _ram("GrossWeightMeasure"), line.gross_weight)
    _measure(el, _ram("NetVolumeMeasure"), line.net_volume)
    _measure(el, _ram("GrossVolumeMeasure"), line.gross_volume)
    note_tag = _ram("AdditionalInformationSPSNote")
    for note in line.additional_notes:
        note_el = _SubElement(el, note_tag)
        _leaf(note_el, _SUBJECT, note.subject)
        _texts(note_el, _CONTENT, note.contents)
    classification_tag = _ram("ApplicableSPSClassification")
    for classification in line.classifications:
        class_el = _SubElement(el, classification_tag)
        _leaf(class_el, _ram("SystemName"), classification.system_name)
        _opt(class_el, _ram("ClassCode"), classification.class_code)
        _texts(class_el, _ram("ClassName"), classification.class_names)
    package_tag = _ram("PhysicalSPSPackage")
    for package in line.packages:
        package_el = _SubElement(el, package_tag)
        _leaf(package_el, _ram("LevelCode"), str(package.level))
        _opt(package_el, _TYPE_CODE, package.type_code)
        _leaf(package_el, _ram("ItemQuantity"), _decimal(package.quantity))
    origin_tag = _ram("OriginSPSCountry")
    for origin in line.origin_countries:
        origin_el = _SubElement(el, origin_tag)
        _leaf(origin_el, _ID, origin.id)
        _opt(origin_el, _NAME, origin.name)
        if origin.subdivision is not None:
            sub = _SubElement(origin_el, _ram("SubordinateSPSCountrySubDivision"))
            _opt(sub, _NAME, origin.subdivision.name)
            _opt(sub, _ram("HierarchicalLevelCode"), origin.subdivision.hierarchical_level_code)
    process_tag = _ram("AppliedSPSProcess")
    for process in line.treatments:
        _applied_process(_SubElement(el, process_tag), process)


def _applied_process(el: _Element, process: AppliedProcess) -> None:
    _opt(el, _TYPE_CODE, process.type_code)
    if process.start is not None or process.end is not None or process.duration is not None:
        period = _SubElement(el, _ram("CompletionSPSPeriod"))
        _datetime(period, _ram("StartDateTime"), process.start)
        _datetime(period, _ram("EndDateTime"), process.end)
        _measure(period, _ram("DurationMeasure"), process.duration)
    characteristic_tag = _ram("ApplicableSPSProcessCharacteristic")
    for characteristic in process.characteristics:
        char_el = _SubElement(el, characteristic_tag)
        _leaf(char_el, _DESCRIPTION, characteristic.code)
        _texts(char_el, _DESCRIPTION, characteristic.descriptions)
        _measure(char_el, _ram("ValueMeasure"), characteristic.value)
