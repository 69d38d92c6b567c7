"""The validator: ValidatePhytoXML semantics (Schema, MandatoryElements, Mapping) on good, broken,
loose and hostile certificates, and the fast path's promise that it never hides a finding."""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from ephyto_core._codelists import default_code_lists
from ephyto_core._namespaces import RAM, RSM, UDT
from ephyto_core._schemas import default_schema_set
from ephyto_core._validation import (
    MAX_FINDINGS,
    Area,
    Level,
    ValidationResult,
    Validator,
    default_validator,
    has_severe,
)
from ephyto_core.certificate import REEXPORT_CERTIFICATE, build_certificate_xml
from tests.conftest import REPO_ROOT
from tests.core.factories import make_certificate, make_corpus, make_large, make_small, make_typical

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "phyto-851.xml"
BROKEN_EXAMPLE = REPO_ROOT / "schemas" / "examples" / "phyto-851-broken.xml"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT}
DOC = "/rsm:SPSCertificate/rsm:SPSExchangedDocument"
CONS = "/rsm:SPSCertificate/rsm:SPSConsignment"
LINE1 = f"{CONS}/ram:IncludedSPSConsignmentItem[1]/ram:IncludedSPSTradeLineItem[1]"
LINE2 = f"{CONS}/ram:IncludedSPSConsignmentItem[1]/ram:IncludedSPSTradeLineItem[2]"
TREATMENT = f"{LINE2}/ram:AppliedSPSProcess[1]"
SIGNATORY = f"{DOC}/ram:SignatorySPSAuthentication"

M, P, S = Area.MANDATORY, Area.MAPPING, Area.SCHEMA
SEVERE, WARNING, INFO = Level.SEVERE, Level.WARNING, Level.INFO


@pytest.fixture(scope="module")
def validator() -> Validator:
    return default_validator()


@pytest.fixture(scope="module")
def full_path() -> Validator:
    """The reference: hub XSD and rules on every document, no fast path."""
    return Validator(schemas=default_schema_set(), code_lists=default_code_lists(), fast_path=False)


def found(results: list[ValidationResult]) -> set[tuple[Area, Level, str]]:
    return {(r.area, r.level, r.field) for r in results}


# --- good certificates -----------------------------------------------------------------------


def _corpus() -> list[tuple[str, bytes]]:
    certificates = [make_small(), make_typical(), make_large(), *make_corpus()]
    return [(c.document.certificate_number, build_certificate_xml(c)) for c in certificates]


CORPUS = _corpus()


@pytest.mark.parametrize(("number", "xml"), CORPUS, ids=[n for n, _ in CORPUS])
def test_valid_corpus_has_no_finding_on_either_path(
    number: str, xml: bytes, validator: Validator, full_path: Validator
) -> None:
    assert validator.validate(xml) == []
    assert full_path.validate(xml) == []


def test_bundled_example_is_valid(validator: Validator, full_path: Validator) -> None:
    xml = EXAMPLE.read_bytes()
    assert validator.validate(xml) == []
    assert full_path.validate(xml) == []


def test_bundled_broken_example_is_refused_with_its_faults(validator: Validator) -> None:
    results = validator.validate(BROKEN_EXAMPLE.read_bytes())
    assert has_severe(results)
    officer = f"{SIGNATORY}/ram:ProviderSPSParty/ram:SpecifiedSPSPerson/ram:Name"
    assert found(results) == {
        (M, SEVERE, officer),
        (P, SEVERE, f"{CONS}/ram:ImportSPSCountry/ram:ID"),
        (P, SEVERE, f"{LINE1}/ram:NetWeightMeasure"),
        (S, SEVERE, f"{LINE2}/ram:CommonName[1]"),
    }


def test_report_hands_back_the_parsed_tree(validator: Validator) -> None:
    report = validator.report(EXAMPLE.read_bytes())
    assert report.root is not None
    assert report.root.tag == f"{{{RSM}}}SPSCertificate"
    assert not report.has_severe


def test_an_element_is_validated_without_parsing_again(validator: Validator) -> None:
    root = etree.fromstring(EXAMPLE.read_bytes())
    report = validator.report(root)
    assert report.root is root
    assert report.results == ()


def test_certificate_embedded_in_a_soap_body_gets_paths_from_the_certificate(
    validator: Validator,
) -> None:
    wrapper = etree.fromstring(b'<w:Body xmlns:w="urn:example:wrapper"/>')
    certificate = etree.fromstring(EXAMPLE.read_bytes())
    certificate.find("rsm:SPSExchangedDocument/ram:ID", NS).text = ""  # type: ignore[union-attr]
    wrapper.append(certificate)
    assert (M, SEVERE, f"{DOC}/ram:ID") in found(validator.validate(certificate))


# --- one fault at a time ---------------------------------------------------------------------


def _one(root: etree._Element, path: str) -> etree._Element:
    matches = root.xpath(path, namespaces=NS)
    assert isinstance(matches, list) and len(matches) == 1, path
    element = matches[0]
    assert isinstance(element, etree._Element)
    return element


def _remove(path: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = _one(root, path)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


def _text(path: str, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        _one(root, path).text = value

    return change


def _attribute(path: str, name: str, value: str | None) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = _one(root, path)
        if value is None:
            del element.attrib[name]
        else:
            element.set(name, value)

    return change


def _insert(path: str, fragment: str, *, before: bool = False) -> Callable[[etree._Element], None]:
    """Put ``fragment`` (with ram/udt prefixes) after (or before) the element at ``path``."""

    def change(root: etree._Element) -> None:
        element = _one(root, path)
        wrapper = etree.fromstring(f'<ram:x xmlns:ram="{RAM}" xmlns:udt="{UDT}">{fragment}</ram:x>')
        for new in reversed(list(wrapper)) if not before else list(wrapper):
            if before:
                element.addprevious(new)
            else:
                element.addnext(new)

    return change


def _all(*changes: Callable[[etree._Element], None]) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        for one in changes:
            one(root)

    return change


def _note(subject: str, content: str) -> str:
    return f"<ram:IncludedSPSNote><ram:Subject>{subject}</ram:Subject><ram:Content>{content}</ram:Content></ram:IncludedSPSNote>"  # noqa: E501


def _line_note(subject: str, content: str) -> str:
    return (
        f"<ram:AdditionalInformationSPSNote><ram:Subject>{subject}</ram:Subject>"
        f"<ram:Content>{content}</ram:Content></ram:AdditionalInformationSPSNote>"
    )


X_DOC = "rsm:SPSExchangedDocument"
X_CONS = "rsm:SPSConsignment"
X_LINE1 = f"{X_CONS}/ram:IncludedSPSConsignmentItem/ram:IncludedSPSTradeLineItem[1]"
X_LINE2 = f"{X_CONS}/ram:IncludedSPSConsignmentItem/ram:IncludedSPSTradeLineItem[2]"
X_TREATMENT = f"{X_LINE2}/ram:AppliedSPSProcess"
X_SIGNATORY = f"{X_DOC}/ram:SignatorySPSAuthentication"
X_FIRST_NOTE = f"{X_DOC}/ram:IncludedSPSNote[1]"


@dataclass(frozen=True)
class Fault:
    name: str
    change: Callable[[etree._Element], None]
    expected: tuple[Area, Level, str]


FAULTS = [
    # MandatoryElements: what ISPM 12 needs beyond the permissive hub schema.
    Fault("no certificate number", _remove(f"{X_DOC}/ram:ID"), (M, SEVERE, f"{DOC}/ram:ID")),
    Fault("empty type", _text(f"{X_DOC}/ram:TypeCode", " "), (M, SEVERE, f"{DOC}/ram:TypeCode")),
    Fault("no status", _remove(f"{X_DOC}/ram:StatusCode"), (M, SEVERE, f"{DOC}/ram:StatusCode")),
    Fault(
        "no issue date",
        _remove(f"{X_DOC}/ram:IssueDateTime"),
        (M, SEVERE, f"{DOC}/ram:IssueDateTime"),
    ),
    Fault(
        "issue date not ISO 8601",
        _text(f"{X_DOC}/ram:IssueDateTime/udt:DateTimeString", "14/03/2025 09:30"),
        (M, SEVERE, f"{DOC}/ram:IssueDateTime"),
    ),
    Fault(
        "no issuer",
        _remove(f"{X_DOC}/ram:IssuerSPSParty"),
        (M, SEVERE, f"{DOC}/ram:IssuerSPSParty/ram:Name"),
    ),
    Fault(
        "empty consignor name",
        _text(f"{X_CONS}/ram:ConsignorSPSParty/ram:Name", ""),
        (M, SEVERE, f"{CONS}/ram:ConsignorSPSParty/ram:Name"),
    ),
    Fault(
        "no consignee",
        _remove(f"{X_CONS}/ram:ConsigneeSPSParty"),
        (M, SEVERE, f"{CONS}/ram:ConsigneeSPSParty/ram:Name"),
    ),
    Fault(
        "no export country",
        _remove(f"{X_CONS}/ram:ExportSPSCountry/ram:ID"),
        (M, SEVERE, f"{CONS}/ram:ExportSPSCountry/ram:ID"),
    ),
    Fault(
        "no import country",
        _remove(f"{X_CONS}/ram:ImportSPSCountry"),
        (M, SEVERE, f"{CONS}/ram:ImportSPSCountry/ram:ID"),
    ),
    Fault(
        "no trade line",
        _all(_remove(X_LINE2), _remove(X_LINE1)),
        (M, SEVERE, f"{CONS}/ram:IncludedSPSConsignmentItem[1]/ram:IncludedSPSTradeLineItem"),
    ),
    Fault(
        "no botanical name",
        _remove(f"{X_LINE2}/ram:ScientificName"),
        (M, SEVERE, f"{LINE2}/ram:ScientificName"),
    ),
    Fault(
        "no quantity",
        _all(
            _remove(f"{X_LINE2}/ram:NetWeightMeasure"),
            _remove(f"{X_LINE2}/ram:PhysicalSPSPackage"),
            _insert(
                f"{X_LINE2}/ram:ApplicableSPSClassification",
                _line_note("OPTND", "Bulk"),
                before=True,
            ),
        ),
        (M, SEVERE, LINE2),
    ),
    Fault(
        "no signing date",
        _remove(f"{X_SIGNATORY}/ram:ActualDateTime"),
        (M, SEVERE, f"{SIGNATORY}/ram:ActualDateTime"),
    ),
    Fault(
        "no place of issue",
        _text(f"{X_SIGNATORY}/ram:IssueSPSLocation/ram:Name", ""),
        (M, SEVERE, f"{SIGNATORY}/ram:IssueSPSLocation/ram:Name"),
    ),
    Fault(
        "no signing officer",
        _remove(f"{X_SIGNATORY}/ram:ProviderSPSParty/ram:SpecifiedSPSPerson"),
        (M, SEVERE, f"{SIGNATORY}/ram:ProviderSPSParty/ram:SpecifiedSPSPerson/ram:Name"),
    ),
    # Mapping: code lists, where the hub must refuse…
    Fault(
        "unknown certificate type",
        _text(f"{X_DOC}/ram:TypeCode", "852"),
        (P, SEVERE, f"{DOC}/ram:TypeCode"),
    ),
    Fault(
        "unknown status",
        _text(f"{X_DOC}/ram:StatusCode", "12"),
        (P, SEVERE, f"{DOC}/ram:StatusCode"),
    ),
    Fault(
        "unknown export country",
        _text(f"{X_CONS}/ram:ExportSPSCountry/ram:ID", "XX"),
        (P, SEVERE, f"{CONS}/ram:ExportSPSCountry/ram:ID"),
    ),
    Fault(
        "lower-case import country",
        _text(f"{X_CONS}/ram:ImportSPSCountry/ram:ID", "nl"),
        (P, SEVERE, f"{CONS}/ram:ImportSPSCountry/ram:ID"),
    ),
    Fault(
        "unknown transport mode",
        _text(f"{X_CONS}/ram:MainCarriageSPSTransportMovement/ram:ModeCode", "12"),
        (P, SEVERE, f"{CONS}/ram:MainCarriageSPSTransportMovement[1]/ram:ModeCode"),
    ),
    Fault(
        "unknown weight unit",
        _attribute(f"{X_LINE1}/ram:NetWeightMeasure", "unitCode", "KGX"),
        (P, SEVERE, f"{LINE1}/ram:NetWeightMeasure"),
    ),
    Fault(
        "volume unit on a weight",
        _attribute(f"{X_LINE1}/ram:GrossWeightMeasure", "unitCode", "MTQ"),
        (P, SEVERE, f"{LINE1}/ram:GrossWeightMeasure"),
    ),
    Fault(
        "unknown statement",
        _text(f"{X_FIRST_NOTE}/ram:Content", "99"),
        (P, SEVERE, f"{DOC}/ram:IncludedSPSNote[1]/ram:Content"),
    ),
    Fault(
        "re-export statement on an 851",
        _text(f"{X_FIRST_NOTE}/ram:Content", "3"),
        (P, SEVERE, f"{DOC}/ram:IncludedSPSNote[1]/ram:Content"),
    ),
    Fault(
        "re-export note on an 851",
        _insert(f"{X_LINE1}/ram:AdditionalInformationSPSNote", _line_note("RPCCO", "BE")),
        (P, SEVERE, f"{LINE1}/ram:AdditionalInformationSPSNote[2]/ram:Subject"),
    ),
    Fault(
        "neither packages nor OPTND",
        _remove(f"{X_LINE2}/ram:PhysicalSPSPackage"),
        (P, SEVERE, LINE2),
    ),
    Fault(
        "replacement without the replaced number",
        _insert(X_FIRST_NOTE, _note("ADRP", "4")),
        (P, SEVERE, f"{DOC}/ram:IncludedSPSNote[2]"),
    ),
    # … and where real senders vary and the importer can still read the certificate.
    Fault(
        "missing unit on a weight",
        _attribute(f"{X_LINE2}/ram:NetWeightMeasure", "unitCode", None),
        (P, WARNING, f"{LINE2}/ram:NetWeightMeasure"),
    ),
    Fault(
        "retired statement",
        _text(f"{X_FIRST_NOTE}/ram:Content", "2"),
        (P, WARNING, f"{DOC}/ram:IncludedSPSNote[1]/ram:Content"),
    ),
    Fault(
        "unknown origin country",
        _text(f"{X_LINE1}/ram:OriginSPSCountry/ram:ID", "XX"),
        (P, WARNING, f"{LINE1}/ram:OriginSPSCountry[1]/ram:ID"),
    ),
    Fault(
        "unknown transit country",
        _insert(
            f"{X_CONS}/ram:ImportSPSCountry",
            "<ram:TransitSPSCountry><ram:ID>QQ</ram:ID></ram:TransitSPSCountry>",
        ),
        (P, WARNING, f"{CONS}/ram:TransitSPSCountry[1]/ram:ID"),
    ),
    Fault(
        "unknown package type",
        _text(f"{X_LINE1}/ram:PhysicalSPSPackage/ram:TypeCode", "QQ"),
        (P, WARNING, f"{LINE1}/ram:PhysicalSPSPackage[1]/ram:TypeCode"),
    ),
    Fault(
        "unknown package level",
        _text(f"{X_LINE1}/ram:PhysicalSPSPackage/ram:LevelCode", "9"),
        (P, WARNING, f"{LINE1}/ram:PhysicalSPSPackage[1]/ram:LevelCode"),
    ),
    Fault(
        "unknown note subject",
        _insert(X_FIRST_NOTE, _note("FOOBAR", "x")),
        (P, WARNING, f"{DOC}/ram:IncludedSPSNote[2]/ram:Subject"),
    ),
    Fault(
        "trade-line subject on the document",
        _insert(X_FIRST_NOTE, _note("DMTLIL", "Lot 7")),
        (P, WARNING, f"{DOC}/ram:IncludedSPSNote[2]/ram:Subject"),
    ),
    Fault(
        "replaced number without a replacement",
        _insert(X_FIRST_NOTE, _note("ADRPN", "KE-2025-000001")),
        (P, WARNING, f"{DOC}/ram:IncludedSPSNote[2]"),
    ),
    Fault(
        "replaced date not a date",
        _insert(X_FIRST_NOTE, _note("ADRP", "4") + _note("ADRPN", "K1") + _note("ADRD", "soon")),
        (P, WARNING, f"{DOC}/ram:IncludedSPSNote[4]/ram:Content"),
    ),
    Fault(
        "coded intended use not in the list",
        _insert(f"{X_LINE1}/ram:ScientificName", "<ram:IntendedUse>EATING</ram:IntendedUse>"),
        (P, WARNING, f"{LINE1}/ram:IntendedUse[1]"),
    ),
    Fault(
        "unknown product description",
        _insert(
            f"{X_LINE1}/ram:ApplicableSPSClassification",
            "<ram:ApplicableSPSClassification><ram:SystemName>IPPCPCVP</ram:SystemName>"
            "<ram:ClassCode>NOPE</ram:ClassCode></ram:ApplicableSPSClassification>",
        ),
        (P, WARNING, f"{LINE1}/ram:ApplicableSPSClassification[2]/ram:ClassCode"),
    ),
    Fault(
        "packages and OPTND both",
        _insert(f"{X_LINE1}/ram:AdditionalInformationSPSNote", _line_note("OPTND", "120 cartons")),
        (P, WARNING, f"{LINE1}/ram:AdditionalInformationSPSNote[2]"),
    ),
    Fault(
        "OQV not a number",
        _insert(f"{X_LINE1}/ram:AdditionalInformationSPSNote", _line_note("OQV", "many")),
        (P, WARNING, f"{LINE1}/ram:AdditionalInformationSPSNote[2]/ram:Content"),
    ),
    Fault(
        "unknown treatment type",
        _insert(
            f"{X_TREATMENT}/ram:ApplicableSPSProcessCharacteristic[1]",
            "<ram:ApplicableSPSProcessCharacteristic><ram:Description>TTL1</ram:Description>"
            "<ram:Description>ZAP</ram:Description></ram:ApplicableSPSProcessCharacteristic>",
        ),
        (P, WARNING, f"{TREATMENT}/ram:ApplicableSPSProcessCharacteristic[2]/ram:Description[2]"),
    ),
    Fault(
        "level-2 treatment under the wrong level 1",
        _insert(
            f"{X_TREATMENT}/ram:ApplicableSPSProcessCharacteristic[1]",
            "<ram:ApplicableSPSProcessCharacteristic><ram:Description>TTL1</ram:Description>"
            "<ram:Description>CHT</ram:Description></ram:ApplicableSPSProcessCharacteristic>"
            "<ram:ApplicableSPSProcessCharacteristic><ram:Description>TTL2</ram:Description>"
            "<ram:Description>CLD</ram:Description></ram:ApplicableSPSProcessCharacteristic>",
        ),
        (P, WARNING, f"{TREATMENT}/ram:ApplicableSPSProcessCharacteristic[3]/ram:Description[2]"),
    ),
    Fault(
        "unknown pesticide",
        _insert(
            f"{X_TREATMENT}/ram:ApplicableSPSProcessCharacteristic[1]",
            "<ram:ApplicableSPSProcessCharacteristic><ram:Description>TTCH</ram:Description>"
            "<ram:Description>99999</ram:Description></ram:ApplicableSPSProcessCharacteristic>",
        ),
        (P, WARNING, f"{TREATMENT}/ram:ApplicableSPSProcessCharacteristic[2]/ram:Description[2]"),
    ),
    Fault(
        "temperature in kilograms",
        _attribute(
            f"{X_TREATMENT}/ram:ApplicableSPSProcessCharacteristic[2]/ram:ValueMeasure",
            "unitCode",
            "KGM",
        ),
        (P, WARNING, f"{TREATMENT}/ram:ApplicableSPSProcessCharacteristic[2]/ram:ValueMeasure"),
    ),
    Fault(
        "duration in metres",
        _attribute(f"{X_TREATMENT}/ram:CompletionSPSPeriod/ram:DurationMeasure", "unitCode", "MTR"),
        (P, WARNING, f"{TREATMENT}/ram:CompletionSPSPeriod/ram:DurationMeasure"),
    ),
    Fault(
        "treatment without free text",
        _remove(f"{X_TREATMENT}/ram:ApplicableSPSProcessCharacteristic[1]"),
        (P, INFO, TREATMENT),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_each_fault_is_reported_where_it_is(
    fault: Fault, validator: Validator, full_path: Validator
) -> None:
    root = etree.fromstring(EXAMPLE.read_bytes())
    fault.change(root)
    xml = etree.tostring(root)
    results = validator.validate(xml)
    assert fault.expected in found(results), [(r.area, r.level, r.field) for r in results]
    assert results == full_path.validate(xml)
    if fault.expected[1] is SEVERE:
        assert has_severe(results)


def test_warnings_alone_do_not_refuse(validator: Validator) -> None:
    root = etree.fromstring(EXAMPLE.read_bytes())
    _text(f"{X_LINE1}/ram:OriginSPSCountry/ram:ID", "XX")(root)
    results = validator.validate(etree.tostring(root))
    assert [(r.area, r.level) for r in results] == [(P, WARNING)]
    assert not has_severe(results)


def test_findings_say_what_is_wrong_and_expected(validator: Validator) -> None:
    root = etree.fromstring(EXAMPLE.read_bytes())
    _attribute(f"{X_LINE1}/ram:GrossWeightMeasure", "unitCode", "MTQ")(root)
    [result] = validator.validate(etree.tostring(root))
    assert result.msg == "unitCode 'MTQ' is a volume unit; this measure needs a weight unit."


# --- re-export (657) -------------------------------------------------------------------------


def test_657_with_re_export_notes_is_clean(validator: Validator) -> None:
    xml = build_certificate_xml(make_certificate(seed=5, type_code=REEXPORT_CERTIFICATE))
    assert validator.validate(xml) == []


def test_657_without_any_re_export_note_is_warned(
    validator: Validator, full_path: Validator
) -> None:
    root = etree.fromstring(
        build_certificate_xml(make_certificate(seed=5, type_code=REEXPORT_CERTIFICATE))
    )
    reexport_notes = "//ram:AdditionalInformationSPSNote[starts-with(ram:Subject, 'RPC')]"
    notes = root.xpath(reexport_notes, namespaces=NS)
    assert isinstance(notes, list) and notes
    for note in notes:
        assert isinstance(note, etree._Element)
        note.getparent().remove(note)  # type: ignore[union-attr]
    xml = etree.tostring(root)
    results = validator.validate(xml)
    assert found(results) == {(P, WARNING, f"{DOC}/ram:TypeCode")}
    assert results == full_path.validate(xml)


def test_export_statement_on_a_657_is_severe(validator: Validator) -> None:
    root = etree.fromstring(
        build_certificate_xml(make_certificate(seed=5, type_code=REEXPORT_CERTIFICATE))
    )
    _text(f"{X_FIRST_NOTE}/ram:Content", "1")(root)
    results = validator.validate(etree.tostring(root))
    assert (P, SEVERE, f"{DOC}/ram:IncludedSPSNote[1]/ram:Content") in found(results)


# --- the loose real-world sample -------------------------------------------------------------


def test_loose_sample_gets_precise_schema_findings(
    validator: Validator, conformance_dir: Path
) -> None:
    sample = conformance_dir / "hub-wsdl-2024" / "SPSCertificateContent.sample.xml"
    results = validator.validate(sample.read_bytes())
    schema = [(r.field, r.msg) for r in results if r.area is S]
    assert schema == [
        (
            f"{SIGNATORY}/ram:IssueSPSLocation/ram:ID",
            "Line 69: This element is not expected. Expected is ( ram:Name ).",
        ),
        (f"{DOC}/ram:ReferenceSPSReferencedDocument[1]", "Line 84: This element is not expected."),
        (
            f"{CONS}/ram:ConsignorSPSParty",
            "Line 131: This element is not expected. Expected is one of ( ram:TransitSPSCountry, "
            "ram:UnloadingBaseportSPSLocation, ram:ExaminationSPSEvent, "
            "ram:MainCarriageSPSTransportMovement, ram:UtilizedSPSTransportEquipment, "
            "ram:IncludedSPSConsignmentItem ).",
        ),
    ]
    # The sample is an 851 that carries the re-export (RPC*) box, and no signing date.
    assert (M, SEVERE, f"{SIGNATORY}/ram:ActualDateTime") in found(results)
    assert (P, SEVERE, f"{LINE1}/ram:AdditionalInformationSPSNote[1]/ram:Subject") in found(results)


def test_schema_paths_use_our_prefixes_whatever_the_sender_wrote(validator: Validator) -> None:
    """A default namespace (libxml2 writes its path as ``/*/*[1]``) and odd prefixes."""
    xml = EXAMPLE.read_bytes()
    xml = xml.replace(b"rsm:", b"").replace(b"xmlns:rsm=", b"xmlns=").replace(b"ram:", b"r:")
    xml = xml.replace(b"xmlns:r=", b"xmlns:ram=").replace(b"xmlns:ram=", b"xmlns:r=", 1)
    root = etree.fromstring(xml)
    status = root.find("{*}SPSExchangedDocument/{*}StatusCode")
    assert status is not None
    status.text = "seventy"
    results = validator.validate(etree.tostring(root))
    assert (S, SEVERE, f"{DOC}/ram:StatusCode") in found(results)


# --- input that is not a certificate ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"this is not xml", "does not start with '<'"),
        (b"<rsm:SPSCertificate", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aa">]><x>&a;</x>', "DOCTYPE"),
        (b"<x>&secret;</x>", "entity"),
        (b"<a>" * 300 + b"</a>" * 300, "nested deeper"),
        ("<x>\ud800</x>", "surrogate"),
    ],
    ids=["empty", "not-xml", "truncated", "doctype", "entity", "deep", "surrogate"],
)
def test_hostile_or_broken_input_is_one_severe_schema_finding(
    data: bytes | str, reason: str, validator: Validator
) -> None:
    [result] = validator.validate(data)
    assert (result.area, result.level, result.field) == (S, SEVERE, "ePhytoXML")
    assert reason in result.msg


def test_content_that_is_not_base64_or_xml_is_one_finding(validator: Validator) -> None:
    [result] = validator.validate_content("%%% not base64 %%%")
    assert (result.area, result.level, result.field) == (S, SEVERE, "Content")
    assert "base64" in result.msg


def test_content_is_accepted_as_text_or_base64(validator: Validator) -> None:
    xml = EXAMPLE.read_bytes()
    assert validator.validate_content(xml.decode()) == []
    assert validator.validate_content(base64.b64encode(xml).decode()) == []


def test_another_root_element_is_refused_in_one_finding(validator: Validator) -> None:
    """The profile declares ram:Name globally, so the XSD alone would accept it as a document."""
    [result] = validator.validate(f'<ram:Name xmlns:ram="{RAM}">x</ram:Name>')
    assert (result.area, result.level, result.field) == (S, SEVERE, "/ram:Name")
    assert "expected an rsm:SPSCertificate" in result.msg


def test_a_flood_of_findings_is_capped_but_stays_severe(validator: Validator) -> None:
    root = etree.fromstring(EXAMPLE.read_bytes())
    item = _one(root, f"{X_CONS}/ram:IncludedSPSConsignmentItem")
    line = _one(root, X_LINE2)
    _remove(f"{X_LINE2}/ram:ScientificName")(root)
    for _ in range(MAX_FINDINGS):
        item.append(copy.deepcopy(line))
    results = validator.validate(etree.tostring(root))
    assert len(results) == MAX_FINDINGS
    assert results[-1].level is SEVERE
    assert "further findings are not listed" in results[-1].msg


def test_a_1000_line_trilingual_certificate_is_clean_compact_or_pretty_printed(
    validator: Validator,
) -> None:
    certificate = make_certificate(seed=1, n_lines=1_000, languages=("en", "es", "fr"))
    compact = build_certificate_xml(certificate)
    pretty = etree.tostring(etree.fromstring(compact), pretty_print=True)
    assert validator.validate(compact) == []
    assert validator.validate(pretty) == []


def _with_invalid_notes(count: int) -> bytes:
    """The example with ``count`` more document notes, each holding an element notes cannot."""
    root = etree.fromstring(EXAMPLE.read_bytes())
    first = _one(root, X_FIRST_NOTE)
    for _ in range(count):
        note = etree.Element(f"{{{RAM}}}IncludedSPSNote")
        etree.SubElement(note, f"{{{RAM}}}Bogus")
        first.addnext(note)
    return etree.tostring(root)


def test_a_parent_with_thousands_of_children_is_one_finding_naming_it(
    validator: Validator,
) -> None:
    """16,000 invalid siblings would cost the schema pass O(n²) in node paths (seconds)."""
    [result] = validator.validate(_with_invalid_notes(16_000))
    assert (result.area, result.level, result.field) == (S, SEVERE, "ePhytoXML")
    assert result.msg.startswith("rsm:SPSExchangedDocument (line 2) has 16,0")
    assert "more than the 2,048 allowed under one element" in result.msg


def test_findings_among_many_siblings_name_their_position(validator: Validator) -> None:
    results = validator.validate(_with_invalid_notes(1_500))
    schema = [r for r in results if r.area is S]
    assert schema[0].field == f"{DOC}/ram:IncludedSPSNote[2]/ram:Bogus"
    assert schema[1].field == f"{DOC}/ram:IncludedSPSNote[3]/ram:Bogus"
    assert schema[-1].msg.startswith("1400 further schema errors are not listed")


def test_schema_errors_are_not_kept_once_reported(validator: Validator) -> None:
    """lxml keeps a schema's last error log (~740 bytes an error) until its next run."""
    assert validator.validate(_with_invalid_notes(1_500))
    assert not default_schema_set().certificate.error_log


def test_validation_from_many_threads_gives_each_its_own_findings() -> None:
    validator = Validator(schemas=default_schema_set(), code_lists=default_code_lists())
    broken = etree.fromstring(EXAMPLE.read_bytes())
    _text(f"{X_DOC}/ram:StatusCode", "seventy")(broken)
    documents = {"good": EXAMPLE.read_bytes(), "broken": etree.tostring(broken)}
    expected = {name: validator.validate(xml) for name, xml in documents.items()}
    mismatches: list[str] = []

    def work(name: str) -> None:
        for _ in range(30):
            if validator.validate(documents[name]) != expected[name]:
                mismatches.append(name)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("good", "broken") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert expected["good"] == [] and expected["broken"]
    assert mismatches == []
