"""Our XSD set: how it loads, and that it judges documents exactly as the live hub's profile does.

The reference is the hub's own schema set, split out of the live WSDL
(``conformance/hub-xsd/``). Equivalence is shown twice: structurally (every global element,
expanded, is the same in both sets) and by behaviour (thousands of damaged documents get the same
verdict and the same libxml2 findings from both).
"""

from __future__ import annotations

import difflib
import pprint
import shutil
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from ephyto_core import _paths
from ephyto_core._namespaces import HUB, HUB_ENTITIES, RAM, RSM, SOAP_ENV, UDT
from ephyto_core._schemas import (
    ENTRY_FILE,
    SchemaLoadError,
    SchemaLocationRefused,
    SchemaSet,
    default_schema_set,
    load_schema_set,
)
from tests.core.mutations import Mutation, mutations
from tests.core.xsd_structure import SchemaStructure

DATA = Path(__file__).parent / "data"
XSD_DIR = _paths.xsd_dir()

#: Which schema of a set judges each fixture folder.
FIXTURE_FOLDERS = {
    "certificates": "certificate",
    "acknowledgements": "acknowledgement",
    "hub_messages": "hub",
}
FIXTURES = sorted(
    (path, use) for folder, use in FIXTURE_FOLDERS.items() for path in (DATA / folder).glob("*.xml")
)

REFERENCE_ENTRIES = {
    "certificate": "hub-SPSCertificate_17.xsd",
    "acknowledgement": "hub-SPSAcknowledgement_17.xsd",
    "hub": "hub-HUB.Entities.xsd",
}

Findings = list[tuple[int, str]]


@pytest.fixture(scope="module")
def ours() -> SchemaSet:
    return load_schema_set()


@pytest.fixture(scope="module")
def reference(conformance_dir: Path) -> dict[str, etree.XMLSchema]:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    folder = conformance_dir / "hub-xsd"
    return {
        use: etree.XMLSchema(etree.parse(str(folder / name), parser))
        for use, name in REFERENCE_ENTRIES.items()
    }


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def _judge(schema: etree.XMLSchema, root: etree._Element) -> tuple[bool, Findings]:
    valid = schema.validate(root)
    return valid, [(error.line, error.message) for error in schema.error_log]


# -- loading -------------------------------------------------------------------------------------


def test_every_schema_location_is_a_file_beside_it() -> None:
    locations = []
    for xsd in sorted(XSD_DIR.glob("*.xsd")):
        for node in etree.parse(str(xsd)).iter("{http://www.w3.org/2001/XMLSchema}import"):
            locations.append((xsd.name, node.get("schemaLocation")))
    assert locations
    for xsd_name, location in locations:
        assert location is not None, f"{xsd_name}: import without schemaLocation"
        assert "/" not in location and ":" not in location, f"{xsd_name}: {location}"
        assert (XSD_DIR / location).is_file(), f"{xsd_name}: {location} missing"


def test_bundled_set_loads_as_three_separate_schemas(ours: SchemaSet) -> None:
    schemas = [ours.certificate, ours.acknowledgement, ours.hub]
    assert all(isinstance(s, etree.XMLSchema) for s in schemas)
    assert len({id(s) for s in schemas}) == 3


def test_set_copied_elsewhere_loads(tmp_path: Path) -> None:
    shutil.copytree(XSD_DIR, tmp_path / "xsd")
    schema_set = load_schema_set(tmp_path / "xsd")
    assert schema_set.certificate.validate(_parse(DATA / "certificates/export_851_typical.xml"))


def _import_profile(folder: Path, location: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ENTRY_FILE).write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="urn:example:x" schemaLocation="{location}"/>'
        "</xs:schema>"
    )


OUTSIDE_SCHEMA = (
    '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:x">'
    '<xs:element name="X" type="xs:string"/></xs:schema>'
)


@pytest.mark.parametrize(
    "location",
    ["http://example.com/x.xsd", "https://example.com/x.xsd", "../../etc/x.xsd", "../outside.xsd"],
)
def test_loader_refuses_schema_locations_outside_its_folder(tmp_path: Path, location: str) -> None:
    (tmp_path / "outside.xsd").write_text(OUTSIDE_SCHEMA)
    folder = tmp_path / "xsd"
    _import_profile(folder, location)

    with pytest.raises(SchemaLocationRefused) as refused:
        load_schema_set(folder)

    assert refused.value.location.endswith(location.lstrip("./"))


def test_outside_file_would_load_without_the_resolver(tmp_path: Path) -> None:
    # The refusal above is the resolver's doing: plain lxml follows the same import.
    (tmp_path / "outside.xsd").write_text(OUTSIDE_SCHEMA)
    _import_profile(tmp_path / "xsd", "../outside.xsd")
    schema = etree.XMLSchema(etree.parse(str(tmp_path / "xsd" / ENTRY_FILE)))
    assert schema.validate(etree.fromstring(b'<X xmlns="urn:example:x">1</X>'))


def test_loader_refuses_a_symlink_leading_out(tmp_path: Path) -> None:
    (tmp_path / "outside.xsd").write_text(OUTSIDE_SCHEMA)
    folder = tmp_path / "xsd"
    _import_profile(folder, "inside.xsd")
    (folder / "inside.xsd").symlink_to(tmp_path / "outside.xsd")

    with pytest.raises(SchemaLocationRefused):
        load_schema_set(folder)


def test_loader_reports_a_missing_entry_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError):
        load_schema_set(tmp_path)


def test_loader_reports_a_missing_imported_file_by_name(tmp_path: Path) -> None:
    shutil.copytree(XSD_DIR, tmp_path / "xsd")
    (tmp_path / "xsd" / "QualifiedDataType_21p0.xsd").unlink()

    with pytest.raises(SchemaLoadError, match=r"QualifiedDataType_21p0\.xsd") as failed:
        load_schema_set(tmp_path / "xsd")

    assert not isinstance(failed.value, SchemaLocationRefused)


def test_default_set_is_compiled_once_per_thread() -> None:
    here = default_schema_set()
    elsewhere: list[SchemaSet] = []
    thread = threading.Thread(target=lambda: elsewhere.append(default_schema_set()))
    thread.start()
    thread.join()

    assert default_schema_set() is here
    assert elsewhere[0] is not here


def test_threads_each_read_their_own_findings() -> None:
    # One shared XMLSchema mixes the error_log of concurrent validations; per-thread sets don't.
    mixed: list[str] = []

    def validate_repeatedly(marker: str) -> None:
        document = etree.fromstring(
            f'<rsm:SPSCertificate xmlns:rsm="{RSM}" xmlns:ram="{RAM}"><rsm:SPSExchangedDocument>'
            + "".join(f"<ram:{marker}{i}/>" for i in range(30))
            + "</rsm:SPSExchangedDocument></rsm:SPSCertificate>"
        )
        for _ in range(300):
            schema = default_schema_set().certificate
            schema.validate(document)
            messages = [error.message for error in schema.error_log]
            if not messages or any(f"{marker}0" not in m for m in messages):
                mixed.append(marker)

    threads = [
        threading.Thread(target=validate_repeatedly, args=(m,)) for m in ("Aa", "Bb", "Cc", "Dd")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mixed == []


# -- structural equivalence ----------------------------------------------------------------------


def _structure_differences(ours_entry: Path, reference_entry: Path) -> list[str]:
    ours_globals = SchemaStructure(ours_entry).global_element_structures()
    reference_globals = SchemaStructure(reference_entry).global_element_structures()
    problems = [f"only in ours: {n}" for n in sorted(set(ours_globals) - set(reference_globals))]
    problems += [
        f"only in the hub's: {n}" for n in sorted(set(reference_globals) - set(ours_globals))
    ]
    for name in sorted(set(ours_globals) & set(reference_globals)):
        if ours_globals[name] != reference_globals[name]:
            diff = difflib.unified_diff(
                pprint.pformat(reference_globals[name], width=100).splitlines(),
                pprint.pformat(ours_globals[name], width=100).splitlines(),
                "hub",
                "ours",
                lineterm="",
                n=1,
            )
            problems.append(f"{name} differs:\n" + "\n".join(list(diff)[:30]))
    return problems


def test_both_sets_declare_the_same_elements_with_the_same_content(conformance_dir: Path) -> None:
    reference_entry = conformance_dir / "hub-xsd" / REFERENCE_ENTRIES["certificate"]
    reference_globals = SchemaStructure(reference_entry).global_element_structures()

    problems = _structure_differences(XSD_DIR / ENTRY_FILE, reference_entry)

    assert len(reference_globals) > 100  # all seven namespaces were read
    assert problems == [], "\n\n".join(problems)


def _seed_fault(folder: Path) -> None:
    """Qualify the seal's ID: a one-word slip the comparisons must notice."""
    rabie = folder / "ReusableAggregateBusinessInformationEntity_21p0.xsd"
    text = rabie.read_text()
    seal = text.index('<xs:complexType name="SPSSealType">')
    slip = text.index('form="unqualified"', seal)
    rabie.write_text(text[:slip] + 'form="qualified"' + text[slip + len('form="unqualified"') :])


def test_structure_comparison_notices_a_single_form_change(
    tmp_path: Path, conformance_dir: Path
) -> None:
    shutil.copytree(XSD_DIR, tmp_path / "xsd")
    _seed_fault(tmp_path / "xsd")

    problems = _structure_differences(
        tmp_path / "xsd" / ENTRY_FILE, conformance_dir / "hub-xsd" / REFERENCE_ENTRIES["hub"]
    )

    assert any("AffixedSPSSeal differs" in p for p in problems)


# -- behavioural equivalence ---------------------------------------------------------------------


@dataclass(frozen=True)
class Divergence:
    mutation: Mutation
    ours: tuple[bool, Findings]
    hub: tuple[bool, Findings]

    def __str__(self) -> str:
        return (
            f"{self.mutation.kind} at {self.mutation.where}: ours {self.ours[0]} "
            f"{self.ours[1][:1]} / hub {self.hub[0]} {self.hub[1][:1]}"
        )


def _judged(
    documents: Iterable[Mutation], ours: etree.XMLSchema, hub: etree.XMLSchema
) -> Iterator[tuple[Mutation, tuple[bool, Findings], tuple[bool, Findings]]]:
    for mutation in documents:
        yield mutation, _judge(ours, mutation.root), _judge(hub, mutation.root)


def _compare(
    documents: Iterable[Mutation], ours: etree.XMLSchema, hub: etree.XMLSchema
) -> tuple[list[Divergence], Counter[bool]]:
    divergences = []
    verdicts: Counter[bool] = Counter()
    for mutation, our_judgement, hub_judgement in _judged(documents, ours, hub):
        verdicts[hub_judgement[0]] += 1
        if our_judgement != hub_judgement:
            divergences.append(Divergence(mutation, our_judgement, hub_judgement))
    return divergences, verdicts


@pytest.mark.parametrize(("path", "use"), FIXTURES, ids=[p.name for p, _ in FIXTURES])
def test_fixture_is_valid_for_both_sets(
    path: Path, use: str, ours: SchemaSet, reference: dict[str, etree.XMLSchema]
) -> None:
    root = _parse(path)
    assert _judge(getattr(ours, use), root) == (True, [])
    assert _judge(reference[use], root) == (True, [])


@pytest.mark.parametrize(("path", "use"), FIXTURES, ids=[p.name for p, _ in FIXTURES])
def test_every_mutation_gets_the_hub_verdict_and_findings(
    path: Path, use: str, ours: SchemaSet, reference: dict[str, etree.XMLSchema]
) -> None:
    divergences, verdicts = _compare(mutations(_parse(path)), getattr(ours, use), reference[use])

    assert divergences == [], f"{len(divergences)} diverging mutations:\n" + "\n".join(
        str(d) for d in divergences[:50]
    )
    # The corpus exercises both outcomes, or agreement would prove little.
    assert verdicts[True] > 0
    assert verdicts[False] > 0


def test_every_mutation_kind_breaks_some_document(ours: SchemaSet) -> None:
    root = _parse(DATA / "certificates/export_851_every_element.xml")
    kinds_invalid: Counter[str] = Counter()
    kinds_seen: set[str] = set()
    for mutation in mutations(root):
        kind = mutation.kind.split(" ", 1)[0]
        kinds_seen.add(kind)
        if not ours.certificate.validate(mutation.root):
            kinds_invalid[kind] += 1
    assert kinds_seen == set(kinds_invalid), kinds_seen - set(kinds_invalid)


def test_mutation_corpus_notices_a_seeded_schema_fault(
    tmp_path: Path, reference: dict[str, etree.XMLSchema]
) -> None:
    shutil.copytree(XSD_DIR, tmp_path / "xsd")
    _seed_fault(tmp_path / "xsd")
    faulty = load_schema_set(tmp_path / "xsd")
    root = _parse(DATA / "certificates/export_851_every_element.xml")

    judged = _judged(mutations(root), faulty.certificate, reference["certificate"])

    assert any(ours != hub for _, ours, hub in judged)


def test_loose_sample_is_rejected_by_both_with_the_same_findings(
    ours: SchemaSet, reference: dict[str, etree.XMLSchema], conformance_dir: Path
) -> None:
    root = _parse(conformance_dir / "hub-wsdl-2024" / "SPSCertificateContent.sample.xml")

    our_judgement = _judge(ours.certificate, root)

    assert our_judgement == _judge(reference["certificate"], root)
    valid, findings = our_judgement
    assert not valid
    assert any("ReferenceSPSReferencedDocument" in message for _, message in findings)


#: The 2022 SOAP example was published without namespace declarations. These bindings are the
#: prefixes SoapUI gives the WSDL's namespaces, read off the element names it uses
#: (eph:DeliverPhytoEnvelope, hub:From, urn:SPSCertificate, urn1:ID, urn2:DateTimeString).
SOAP_EXAMPLE_PREFIXES = {
    "soapenv": SOAP_ENV,
    "eph": HUB,
    "hub": HUB_ENTITIES,
    "urn": RSM,
    "urn1": RAM,
    "urn2": UDT,
}


def _soap_example_body(conformance_dir: Path) -> etree._Element:
    text = (
        conformance_dir / "hub-wsdl-2022" / "ejemplo.DeliverPhytoEnvelope.request.xml"
    ).read_text()
    declarations = " ".join(f'xmlns:{p}="{ns}"' for p, ns in SOAP_EXAMPLE_PREFIXES.items())
    assert text.count("<soapenv:Envelope>") == 1
    text = text.replace("<soapenv:Envelope>", f"<soapenv:Envelope {declarations}>")
    envelope = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    return body[0]


def test_soap_example_gets_the_same_verdicts(
    ours: SchemaSet, reference: dict[str, etree.XMLSchema], conformance_dir: Path
) -> None:
    operation = _soap_example_body(conformance_dir)
    certificate = operation.find(f".//{{{RSM}}}SPSCertificate")
    assert certificate is not None
    standalone = etree.fromstring(etree.tostring(certificate))

    assert _judge(ours.hub, operation) == _judge(reference["hub"], operation) == (True, [])
    assert _judge(ours.certificate, standalone) == _judge(reference["certificate"], standalone)
    assert ours.certificate.validate(standalone)


def test_any_global_element_passes_as_root_in_both_sets(
    ours: SchemaSet, reference: dict[str, etree.XMLSchema]
) -> None:
    # Why callers check the root's name before trusting a schema verdict.
    consignment = etree.fromstring(f'<rsm:SPSConsignment xmlns:rsm="{RSM}"/>')
    name = etree.fromstring(f'<ram:Name xmlns:ram="{RAM}">x</ram:Name>')
    for root in (consignment, name):
        assert ours.certificate.validate(root)
        assert reference["certificate"].validate(root)


def test_xsi_type_naming_a_relocated_type_is_the_known_divergence(
    ours: SchemaSet, reference: dict[str, etree.XMLSchema]
) -> None:
    # The hub keeps certificate types such as measureType in http://ephyto.ippc.int/; ours live
    # in the ram namespace under other names. Only a document naming a type gets another verdict.
    document = etree.fromstring(
        f'<rsm:SPSCertificate xmlns:rsm="{RSM}" xmlns:ram="{RAM}" xmlns:hub="{HUB}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><rsm:SPSExchangedDocument>'
        "<ram:TypeCode>851</ram:TypeCode><ram:StatusCode>70</ram:StatusCode>"
        '<ram:IssueDateTime xsi:type="hub:measureType">1</ram:IssueDateTime>'
        "</rsm:SPSExchangedDocument></rsm:SPSCertificate>"
    )
    assert reference["certificate"].validate(document)
    assert not ours.certificate.validate(document)
