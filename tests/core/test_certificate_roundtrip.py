"""The certificate model, its XML builder and its reader, against the hub's schema profile."""

from __future__ import annotations

import base64
import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ephyto_core._namespaces import PREFIXES, RAM, RSM, UDT
from ephyto_core.certificate import (
    EXPORT_CERTIFICATE,
    REEXPORT_CERTIFICATE,
    REEXPORT_SUBJECTS,
    STATUS_WITHDRAWN,
    AppliedProcess,
    Attachment,
    Certificate,
    CertificateReadError,
    Classification,
    Clause,
    Code,
    Consignment,
    Country,
    DocumentNoteSubject,
    ExchangedDocument,
    LineNote,
    Location,
    Measure,
    Note,
    OriginCountry,
    Package,
    Party,
    ProcessCharacteristic,
    ReexportDetails,
    ReferencedDocument,
    Replacement,
    Signatory,
    Subdivision,
    Text,
    TradeLineItem,
    TransportEquipment,
    TransportMovement,
    TreatmentCharacteristic,
    build_certificate_element,
    build_certificate_xml,
    free_text_of,
    mark_replacing,
    note_problems,
    notes_about,
    packaging_note,
    read_certificate,
    reexport_details,
    replacement_of,
    treatment,
    with_reexport_details,
    withdrawal_of,
)
from tests.core.factories import (
    make_certificate,
    make_corpus,
    make_large,
    make_small,
    make_typical,
)

CORPUS = make_corpus(n=40)
CORPUS_IDS = [f"{c.document.type_code}-{c.document.certificate_number}" for c in CORPUS]


@pytest.fixture(scope="session")
def hub_schema(conformance_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(conformance_dir / "hub-xsd" / "hub-SPSCertificate_17.xsd"))
    )


@pytest.fixture(scope="session")
def our_schema() -> etree.XMLSchema:
    schemas = pytest.importorskip(
        "ephyto_core._schemas", reason="ephyto_core._schemas (our bundled XSD set) not written yet"
    )
    schema: etree.XMLSchema = schemas.load_schema_set().certificate
    return schema


@pytest.fixture(scope="session")
def loose_sample(conformance_dir: Path) -> bytes:
    return (conformance_dir / "hub-wsdl-2024" / "SPSCertificateContent.sample.xml").read_bytes()


def assert_valid(schema: etree.XMLSchema, xml: bytes) -> None:
    doc = etree.fromstring(xml)
    assert schema.validate(doc), str(schema.error_log)[:2000]


# --- corpus: valid and lossless ------------------------------------------------------------------


@pytest.mark.parametrize("cert", CORPUS, ids=CORPUS_IDS)
def test_built_certificate_is_valid_against_the_hub_reference_schema(
    cert: Certificate, hub_schema: etree.XMLSchema
) -> None:
    assert_valid(hub_schema, build_certificate_xml(cert))


@pytest.mark.parametrize("cert", CORPUS, ids=CORPUS_IDS)
def test_built_certificate_is_valid_against_our_bundled_schemas(
    cert: Certificate, our_schema: etree.XMLSchema
) -> None:
    assert_valid(our_schema, build_certificate_xml(cert))


@pytest.mark.parametrize("cert", CORPUS, ids=CORPUS_IDS)
def test_round_trip_is_lossless(cert: Certificate) -> None:
    assert read_certificate(build_certificate_xml(cert)) == cert


def test_reader_accepts_an_already_parsed_element() -> None:
    cert = CORPUS[1]
    assert read_certificate(build_certificate_element(cert)) == cert


def test_corpus_covers_the_variants_the_hub_must_handle() -> None:
    types = {c.document.type_code for c in CORPUS}
    statuses = {c.document.status_code for c in CORPUS}
    languages = {n.content.language for c in CORPUS for n in c.document.notes}
    lines = [line for c in CORPUS for line in c.consignment.trade_line_items]
    assert types == {EXPORT_CERTIFICATE, REEXPORT_CERTIFICATE}
    assert statuses == {70, STATUS_WITHDRAWN}
    assert any(replacement_of(c) for c in CORPUS if c.document.type_code == EXPORT_CERTIFICATE)
    assert any(replacement_of(c) for c in CORPUS if c.document.type_code == REEXPORT_CERTIFICATE)
    assert any(r.attachment for c in CORPUS for r in c.document.referenced_documents)
    assert any(len(c.consignment.transit_countries) > 1 for c in CORPUS)
    assert {"en", "es", "fr"} <= languages
    assert any(len(c.consignment.trade_line_items) > 3 for c in CORPUS)
    assert any(line.treatments for line in lines) and any(not line.treatments for line in lines)
    assert any(not line.packages for line in lines)  # OPTND free-text packaging
    assert {m.mode_code for c in CORPUS for m in c.consignment.transport_movements} >= {1, 4}
    assert len({c.document.certificate_number for c in CORPUS}) == len(CORPUS)


def test_corpus_passes_the_hub_validator_without_a_single_finding() -> None:
    """Schema, mandatory elements and code lists (the bundled ones) all agree with the corpus,
    so benchmark runs measure clean certificates, not the cost of reporting findings."""
    validation = pytest.importorskip(
        "ephyto_core._validation", reason="ephyto_core._validation not written yet"
    )
    validator = validation.default_validator()
    findings = {
        c.document.certificate_number: [
            f"{r.level} {r.field}: {r.msg}"
            for r in validator.validate(etree.fromstring(build_certificate_xml(c)))
        ]
        for c in [*CORPUS, make_small(), make_typical(), make_large()]
    }
    assert {number: found for number, found in findings.items() if found} == {}


def test_corpus_has_no_note_contradictions() -> None:
    assert [
        (c.document.certificate_number, note_problems(c)) for c in CORPUS if note_problems(c)
    ] == []


# --- sized documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "target"),
    [(make_small, 5_000), (make_typical, 40_000), (make_large, 400_000)],
    ids=["small", "typical", "large"],
)
def test_sized_documents_land_within_20_percent_of_target(
    make: Callable[..., Certificate], target: int, hub_schema: etree.XMLSchema
) -> None:
    for seed in range(5):
        cert = make(seed=seed)
        xml = build_certificate_xml(cert)
        assert 0.8 * target <= len(xml) <= 1.2 * target, (seed, len(xml))
        assert_valid(hub_schema, xml)
        assert read_certificate(xml) == cert


# --- wire shape ----------------------------------------------------------------------------------


def test_xml_has_declaration_prefixes_and_profile_namespaces() -> None:
    cert = make_certificate(seed=3, mode_code=1)
    xml = build_certificate_xml(cert)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(xml)
    assert root.tag == f"{{{RSM}}}SPSCertificate"
    assert root.nsmap["rsm"] == RSM and root.nsmap["ram"] == RAM and root.nsmap["udt"] == UDT
    assert "qdt" in root.nsmap
    assert [child.tag for child in root] == [
        f"{{{RSM}}}SPSExchangedDocument",
        f"{{{RSM}}}SPSConsignment",
    ]
    assert root.findtext("rsm:SPSExchangedDocument/ram:ID", namespaces=PREFIXES) == (
        cert.document.certificate_number
    )
    issued = root.find("rsm:SPSExchangedDocument/ram:IssueDateTime/udt:DateTimeString", PREFIXES)
    assert issued is not None and issued.text == cert.document.issue_datetime.isoformat()  # type: ignore[union-attr]
    # The profile declares these two IDs unqualified.
    equipment = root.find("rsm:SPSConsignment/ram:UtilizedSPSTransportEquipment", PREFIXES)
    assert equipment is not None
    assert [c.tag for c in equipment] == ["ID", f"{{{RAM}}}AffixedSPSSeal"]
    assert [c.tag for c in equipment[1]] == ["ID"]
    line = root.find(
        "rsm:SPSConsignment/ram:IncludedSPSConsignmentItem/ram:IncludedSPSTradeLineItem", PREFIXES
    )
    assert line is not None and line[0].tag == f"{{{RAM}}}SequenceNumeric"


def test_qualified_id_in_transport_equipment_is_refused_by_the_hub_profile(
    hub_schema: etree.XMLSchema,
) -> None:
    """Guards the unqualified-ID rule above: the schema really does tell the two apart."""
    root = build_certificate_element(make_certificate(seed=3, mode_code=1))
    equipment = root.find(f"{{{RSM}}}SPSConsignment/{{{RAM}}}UtilizedSPSTransportEquipment")
    assert equipment is not None
    equipment[0].tag = f"{{{RAM}}}ID"
    assert not hub_schema.validate(root)


def test_attachment_is_written_as_base64_with_its_filename() -> None:
    cert = make_certificate(seed=4, attachments_kb=2)
    root = etree.fromstring(build_certificate_xml(cert))
    binary = root.find(f".//{{{RAM}}}AttachmentBinaryObject")
    assert binary is not None and binary.text is not None
    attachment = cert.document.referenced_documents[0].attachment
    assert attachment is not None
    assert binary.get("filename") == attachment.filename
    assert base64.b64decode(binary.text) == attachment.content
    assert len(attachment.content) == 2048 and attachment.content.startswith(b"%PDF")


def test_measures_keep_their_decimal_digits_and_units() -> None:
    line = TradeLineItem(
        sequence=1,
        net_weight=Measure(value=Decimal("1250.500"), unit_code="KGM"),
        gross_volume=Measure(value=Decimal("0.0001"), unit_code="MTQ"),
        packages=(Package(level=1, type_code="BX", quantity=Decimal("12")),),
    )
    cert = _minimal(lines=(line,))
    root = etree.fromstring(build_certificate_xml(cert))
    net = root.find(f".//{{{RAM}}}NetWeightMeasure")
    assert net is not None and (net.text, net.get("unitCode")) == ("1250.500", "KGM")
    vol = root.find(f".//{{{RAM}}}GrossVolumeMeasure")
    assert vol is not None and vol.text == "0.0001"
    read = read_certificate(build_certificate_xml(cert)).consignment.trade_line_items[0]
    assert read.net_weight is not None and str(read.net_weight.value) == "1250.500"


# --- 851 vs 657, replacements, withdrawals, treatments -------------------------------------------


def test_reexport_certificates_carry_rpc_notes_and_exports_do_not() -> None:
    for cert in CORPUS:
        xml = build_certificate_xml(cert)
        root = etree.fromstring(xml)
        subjects = {
            s.text
            for s in root.iterfind(f".//{{{RAM}}}AdditionalInformationSPSNote/{{{RAM}}}Subject")
        }
        read = read_certificate(xml)
        if cert.document.type_code == REEXPORT_CERTIFICATE:
            assert subjects >= set(REEXPORT_SUBJECTS) - {"RPCST"}
            assert cert.document.name == "Phytosanitary Certificate for Re-Export"
            for line in read.consignment.trade_line_items:
                details = reexport_details(line)
                assert details is not None
                assert cert.consignment.export_country is not None
                assert details.origin_country_id != cert.consignment.export_country.id
                assert line.origin_countries[0].id == details.origin_country_id
        else:
            assert not subjects & REEXPORT_SUBJECTS
            assert all(reexport_details(line) is None for line in read.consignment.trade_line_items)


def test_reexport_notes_are_refused_on_an_export_certificate() -> None:
    details = ReexportDetails(
        origin_country_id="KE",
        original_certificate_number="KE-2025-1",
        original_attached=True,
        certified_copy_attached=False,
        packed=True,
        repacked=False,
        original_containers=True,
        new_containers=False,
        based_on_original_certificate=True,
        additional_inspection=False,
    )
    with pytest.raises(ValueError, match="657"):
        with_reexport_details(make_certificate(seed=1), details)
    reexport = with_reexport_details(
        make_certificate(seed=1, type_code=REEXPORT_CERTIFICATE), details
    )
    lines = read_certificate(build_certificate_xml(reexport)).consignment.trade_line_items
    assert {reexport_details(line) for line in lines} == {details}


def test_note_problems_flag_rpc_on_851_and_conflicting_packaging() -> None:
    cert = make_certificate(seed=2, n_lines=1)
    line = cert.consignment.trade_line_items[0]
    bad_line = dataclasses.replace(
        line,
        additional_notes=(
            LineNote(subject="RPCCO", contents=(Text(value="BE"),)),
            packaging_note("10 boxes"),
        ),
    )
    bad = dataclasses.replace(
        cert, consignment=dataclasses.replace(cert.consignment, trade_line_items=(bad_line,))
    )
    problems = note_problems(bad)
    assert len(problems) == 2
    assert "RPCCO" in problems[0] and "851" in problems[0]
    assert "both OPTND" in problems[1]


def test_multilingual_packaging_is_one_optnd_note_with_a_content_per_language() -> None:
    note = packaging_note(
        Text(value="10 cartons", language="en"), Text(value="10 cajas", language="es")
    )
    assert note.subject == "OPTND"
    assert [t.language for t in note.contents] == ["en", "es"]
    assert packaging_note("10 boxes").contents == (Text(value="10 boxes"),)
    with pytest.raises(ValueError, match="OPTND"):
        packaging_note()


def test_replacement_survives_the_wire_and_marking_twice_keeps_the_last() -> None:
    cert = make_certificate(seed=5)
    when = datetime(2025, 2, 3, 10, 0, tzinfo=timezone(timedelta(hours=-3)))
    first = Replacement(replaced_number="AR-2025-1", replaced_date=when, reason=Text(value="typo"))
    second = Replacement(
        replaced_number="AR-2025-2",
        replaced_date=when + timedelta(days=1),
        reason=Text(value="Cambio de destinatario", language="es"),
        statement="4",
    )
    marked = mark_replacing(mark_replacing(cert, first), second)
    read = read_certificate(build_certificate_xml(marked))
    assert replacement_of(read) == second
    subjects = [n.subject for n in read.document.notes]
    assert subjects.count(DocumentNoteSubject.REPLACED_NUMBER) == 1
    assert subjects[-4:] == ["ADRP", "ADRPN", "ADRPR", "ADRD"]
    assert replacement_of(cert) is None


def test_withdrawal_keeps_the_content_with_status_40(hub_schema: etree.XMLSchema) -> None:
    cert = make_certificate(seed=6)
    withdrawn = withdrawal_of(cert)
    assert withdrawn.document.status_code == STATUS_WITHDRAWN
    assert withdrawn.consignment == cert.consignment
    xml = build_certificate_xml(withdrawn)
    assert_valid(hub_schema, xml)
    assert etree.fromstring(xml).findtext(f".//{{{RAM}}}StatusCode") == "40"


def test_treatment_always_writes_ttft_first() -> None:
    start = datetime(2025, 5, 1, 8, tzinfo=UTC)
    process = treatment(
        level1="PHT",
        level2="COLD",
        temperature=Measure(value=Decimal("1.1"), unit_code="CEL"),
        duration=Measure(value=Decimal("384"), unit_code="HUR"),
        start=start,
        end=start + timedelta(hours=384),
    )
    codes = [c.code for c in process.characteristics]
    assert codes == ["TTFT", "TTL1", "TTL2", "TTTM"]
    (text,) = free_text_of(process)
    assert text.language == "en"
    assert "PHT/COLD" in text.value and "1.1 CEL" in text.value and "384 HUR" in text.value
    given_texts = (Text(value="Cold treatment", language="en"), Text(value="Frío", language="es"))
    assert free_text_of(treatment(level1="PHT", free_text=given_texts)) == given_texts
    with pytest.raises(ValueError, match="TTFT"):
        treatment(level1="PHT", free_text=())


def test_every_treatment_in_the_corpus_has_a_free_text() -> None:
    processes = [
        p for c in CORPUS for line in c.consignment.trade_line_items for p in line.treatments
    ]
    assert processes
    assert all(free_text_of(p) for p in processes)


# --- the loose real-world sample -----------------------------------------------------------------


def test_loose_sample_is_not_valid_against_the_profile(
    loose_sample: bytes, hub_schema: etree.XMLSchema
) -> None:
    """The premise of the tolerance tests below: the sample really is out of order."""
    assert not hub_schema.validate(etree.fromstring(loose_sample))


def test_reader_reads_the_loose_sample(loose_sample: bytes) -> None:
    cert = read_certificate(loose_sample)
    doc, con = cert.document, cert.consignment
    assert doc.certificate_number == "123ABC"
    assert (doc.type_code, doc.status_code) == (851, 70)
    assert doc.issue_datetime == datetime(
        2016, 4, 22, 13, 53, 8, tzinfo=timezone(timedelta(hours=-3))
    )
    assert doc.issuer_name == "Servicio Nacional de Sanidad y Calida Agroalimentaria"
    assert [n.content.language for n in notes_about(doc.notes, "ADEDL")] == ["en", "nn"]
    # Signatory comes before the referenced documents in the sample; order does not matter.
    assert doc.signatory is not None
    assert doc.signatory.person_name == "Miguel Perrerra"
    assert doc.signatory.actual_datetime is None  # present but empty
    assert [r.attachment.filename for r in doc.referenced_documents if r.attachment] == [
        "TestPdf.pdf",
        "US-F-12345-13467-7N.png",
        "TestJpeg.jpeg",
        "TestGif.gif",
        "TestIngenFiltypeINavn",
        "UkjentFiltype",
    ]
    first = doc.referenced_documents[0]
    assert first.attachment is not None and first.attachment.content.startswith(b"%PDF")
    assert first.issue_datetime == datetime(2021, 9, 10, tzinfo=UTC)  # bare date, no wrapper

    assert con.consignor is not None and con.consignor.name == "Juan Perez"
    assert con.consignor.type_codes == (
        Code(value="98543210", list_name="NationalRegistrationNumber"),
    )
    assert con.export_country == Country(id="AR", name="")
    assert con.transit_countries == (Country(id="US", name=""),)
    assert con.unloading_baseport == Location(id="USSEA", name="Guayaquil (Seattle)")
    assert con.transport_equipment == TransportEquipment(id="", seal_id="G2382564")
    assert [(m.mode_code, m.id, m.means_name) for m in con.transport_movements] == [
        (3, "", None),
        (1, "Voyage N° 18", "Ocean Vessel: Black Pearl"),
    ]

    assert [line.sequence for line in con.trade_line_items] == [0, 1]
    first_line, second_line = con.trade_line_items
    assert first_line.scientific_names == (Text(value="Ribes"),)
    assert first_line.net_weight == Measure(value=Decimal("10"), unit_code="KGM")
    assert [c.system_name for c in first_line.classifications] == [
        "HS",
        "IPPCPCVP",
        "IPPCPCC",
        "IPPCPCC",
    ]
    assert first_line.packages[1] == Package(level=2, type_code="BX", quantity=Decimal("20"))
    origin = first_line.origin_countries[0]
    assert origin.subdivision == Subdivision(
        name="Valles de la RegiónPatagónica", hierarchical_level_code="0"
    )
    (process,) = first_line.treatments
    assert process.duration == Measure(value=Decimal("3"), unit_code="HUR")
    assert process.start == datetime(2016, 4, 12, tzinfo=UTC)
    assert [c.code for c in process.characteristics][:2] == ["TTFT", "TTCH"]
    assert free_text_of(process)[0].value.startswith("Type : Systems approach")
    assert [n.subject for n in second_line.additional_notes] == ["OPTND", "OQV", "OQU"]


def test_reader_finds_replacement_and_reexport_notes_in_the_loose_sample(
    loose_sample: bytes,
) -> None:
    cert = read_certificate(loose_sample)
    replacement = replacement_of(cert)
    assert replacement is not None
    assert replacement.replaced_number == "3214356"
    assert replacement.reason == Text(value="change in consignee", language="en")
    assert replacement.replaced_date == datetime(
        2016, 4, 22, 13, 53, 8, tzinfo=timezone(timedelta(hours=-4))
    )
    details = reexport_details(cert.consignment.trade_line_items[0])
    assert details is not None
    assert (details.origin_country_id, details.original_certificate_number) == ("BE", "677636")
    assert (details.original_attached, details.certified_copy_attached) == (False, True)


def test_what_the_reader_takes_from_the_loose_sample_builds_valid_xml(
    loose_sample: bytes, hub_schema: etree.XMLSchema
) -> None:
    cert = read_certificate(loose_sample)
    xml = build_certificate_xml(cert)
    assert_valid(hub_schema, xml)
    assert read_certificate(xml) == cert


_NOT_NEEDED_FOR_ROUTING = [
    "SPSExchangedDocument/IssueDateTime",
    "SPSExchangedDocument/SignatorySPSAuthentication",
    "SPSConsignment/IncludedSPSConsignmentItem",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_reader_never_crashes_on_a_damaged_loose_sample(
    loose_sample: bytes, data: st.DataObject
) -> None:
    root = etree.fromstring(loose_sample)
    elements = [el for el in root.iter() if el is not root]
    for _ in range(data.draw(st.integers(min_value=1, max_value=12), label="damages")):
        target = data.draw(st.sampled_from(elements))
        damage = data.draw(st.sampled_from(["drop", "garble", "empty", "duplicate"]))
        parent = target.getparent()
        if parent is None:
            continue
        if damage == "drop":
            parent.remove(target)
        elif damage == "garble":
            target.text = data.draw(
                st.sampled_from(["x", "-1e999", "NaN", "2016-13-45", "12,5", " "])
            )
        elif damage == "empty":
            for child in list(target):
                target.remove(child)
            target.text = None
        else:
            parent.append(copy.deepcopy(target))
    try:
        cert = read_certificate(root)
    except CertificateReadError as exc:
        assert exc.field is not None and exc.field.startswith("SPSExchangedDocument/")
    else:
        assert isinstance(cert, Certificate)
        # Whatever was read must be writable again.
        build_certificate_xml(cert)


# --- refusals ------------------------------------------------------------------------------------


def test_reader_refuses_a_document_that_is_not_a_certificate() -> None:
    with pytest.raises(CertificateReadError, match="SPSCertificate"):
        read_certificate(b"<Envelope/>")


def test_reader_refuses_malformed_bytes() -> None:
    with pytest.raises(CertificateReadError, match="well-formed"):
        read_certificate(b"<rsm:SPSCertificate")


def test_reader_refuses_a_certificate_without_type_code() -> None:
    root = build_certificate_element(make_small())
    type_code = root.find(f"{{{RSM}}}SPSExchangedDocument/{{{RAM}}}TypeCode")
    assert type_code is not None
    type_code.getparent().remove(type_code)  # type: ignore[union-attr]
    with pytest.raises(CertificateReadError) as info:
        read_certificate(root)
    assert info.value.field == "SPSExchangedDocument/TypeCode"


def test_reader_does_not_expand_entities_from_bytes(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = build_certificate_xml(make_small()).decode()
    number = make_small().document.certificate_number
    xml = xml.replace(
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY boom "BOOM"> '
        f'<!ENTITY leak SYSTEM "file://{secret}">]>',
    )
    xml = xml.replace(f"<ram:ID>{number}</ram:ID>", "<ram:ID>&boom;&leak;</ram:ID>", 1)
    cert = read_certificate(xml.encode())
    assert "BOOM" not in cert.document.certificate_number
    assert "TOP-SECRET" not in cert.document.certificate_number


# --- model rules ---------------------------------------------------------------------------------


def test_model_refuses_naive_datetimes_and_non_finite_measures() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ExchangedDocument(
            certificate_number="X",
            type_code=851,
            status_code=70,
            issue_datetime=datetime(2025, 1, 1),
        )
    with pytest.raises(ValueError, match="finite"):
        Measure(value=Decimal("NaN"))
    with pytest.raises(ValueError, match="address lines"):
        Party(address_lines=("1", "2", "3", "4", "5", "6"))


def test_model_values_compare_and_hash_by_value() -> None:
    assert make_certificate(seed=9) == make_certificate(seed=9)
    assert hash(make_certificate(seed=9)) == hash(make_certificate(seed=9))
    assert make_certificate(seed=9) != make_certificate(seed=10)


# --- property: anything the model holds survives the wire ----------------------------------------


def _minimal(*, lines: tuple[TradeLineItem, ...] = ()) -> Certificate:
    return Certificate(
        document=ExchangedDocument(certificate_number="KE-1", type_code=851, status_code=70),
        consignment=Consignment(trade_line_items=lines),
    )


_xml_char = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")
_strings = st.text(_xml_char, max_size=12)
_opt_strings = st.none() | _strings
_languages = st.none() | st.sampled_from(["en", "es", "fr", "nn"])
_texts_st = st.builds(Text, value=_strings, language=_languages)
_text_tuples = st.lists(_texts_st, max_size=2).map(tuple)
_decimals = st.decimals(
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
    allow_nan=False,
    allow_infinity=False,
    places=4,
)
_measures = st.none() | st.builds(
    Measure, value=_decimals, unit_code=st.none() | st.sampled_from(["KGM", "MTQ", "CEL", "HUR"])
)
_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
_datetimes = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
)
_ints = st.integers(min_value=0, max_value=2**31 - 1)
_characteristics = st.builds(
    ProcessCharacteristic,
    code=st.sampled_from([c.value for c in TreatmentCharacteristic]),
    descriptions=_text_tuples,
    value=_measures,
)
_processes = st.builds(
    AppliedProcess,
    type_code=_opt_strings,
    start=_datetimes,
    end=_datetimes,
    duration=_measures,
    characteristics=st.lists(_characteristics, max_size=3).map(tuple),
)
_lines = st.builds(
    TradeLineItem,
    sequence=_ints,
    descriptions=_text_tuples,
    common_names=_text_tuples,
    scientific_names=_text_tuples,
    intended_uses=_text_tuples,
    net_weight=_measures,
    gross_weight=_measures,
    net_volume=_measures,
    gross_volume=_measures,
    additional_notes=st.lists(
        st.builds(LineNote, subject=_strings, contents=_text_tuples), max_size=2
    ).map(tuple),
    classifications=st.lists(
        st.builds(
            Classification, system_name=_strings, class_code=_opt_strings, class_names=_text_tuples
        ),
        max_size=2,
    ).map(tuple),
    packages=st.lists(
        st.builds(Package, level=_ints, quantity=_decimals, type_code=_opt_strings), max_size=2
    ).map(tuple),
    origin_countries=st.lists(
        st.builds(
            OriginCountry,
            id=_strings,
            name=_opt_strings,
            subdivision=st.none()
            | st.builds(Subdivision, name=_opt_strings, hierarchical_level_code=_opt_strings),
        ),
        max_size=2,
    ).map(tuple),
    treatments=st.lists(_processes, max_size=2).map(tuple),
)
_parties = st.none() | st.builds(
    Party,
    name=_opt_strings,
    type_codes=st.lists(st.builds(Code, value=_strings, list_name=_opt_strings), max_size=2).map(
        tuple
    ),
    address_lines=st.lists(_strings, max_size=5).map(tuple),
)
_countries = st.builds(Country, id=_strings, name=_opt_strings)
_certificates = st.builds(
    Certificate,
    document=st.builds(
        ExchangedDocument,
        certificate_number=_strings,
        type_code=_ints,
        status_code=_ints,
        name=_opt_strings,
        issue_datetime=_datetimes,
        issuer_name=_opt_strings,
        notes=st.lists(st.builds(Note, subject=_strings, content=_texts_st), max_size=3).map(tuple),
        referenced_documents=st.lists(
            st.builds(
                ReferencedDocument,
                # "" and None are the same empty TypeCode element on the wire.
                type_code=st.none() | st.text(_xml_char, min_size=1, max_size=5),
                relationship_type_code=_opt_strings,
                id=_opt_strings,
                issue_datetime=_datetimes,
                attachment=st.none()
                | st.builds(Attachment, filename=_opt_strings, content=st.binary(max_size=40)),
                information=st.none() | _texts_st,
            ),
            max_size=2,
        ).map(tuple),
        signatory=st.none()
        | st.builds(
            Signatory,
            actual_datetime=_datetimes,
            place_name=_opt_strings,
            provider_name=_opt_strings,
            person_name=_opt_strings,
            clauses=st.lists(st.builds(Clause, id=_ints, content=_opt_strings), max_size=2).map(
                tuple
            ),
        ),
    ),
    consignment=st.builds(
        Consignment,
        consignor=_parties,
        consignee=_parties,
        export_country=st.none() | _countries,
        import_country=st.none() | _countries,
        transit_countries=st.lists(_countries, max_size=2).map(tuple),
        unloading_baseport=st.none() | st.builds(Location, id=_opt_strings, name=_opt_strings),
        examination_location_name=_opt_strings,
        transport_movements=st.lists(
            st.builds(TransportMovement, mode_code=_ints, id=_opt_strings, means_name=_opt_strings),
            max_size=2,
        ).map(tuple),
        transport_equipment=st.none()
        | st.builds(TransportEquipment, id=_opt_strings, seal_id=_opt_strings),
        cargo_type_code=_opt_strings,
        trade_line_items=st.lists(_lines, max_size=2).map(tuple),
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cert=_certificates)
def test_any_model_value_survives_build_and_read(
    cert: Certificate, hub_schema: etree.XMLSchema, our_schema: etree.XMLSchema
) -> None:
    xml = build_certificate_xml(cert)
    assert_valid(hub_schema, xml)
    assert_valid(our_schema, xml)
    assert read_certificate(xml) == cert
