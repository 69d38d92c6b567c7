"""The screen schema: one XSD pass that says "this certificate is clean" for the common case.

Validating a certificate costs a parse, the hub profile's XSD and the rules
(:mod:`ephyto_core._certificate_rules`). Walking a 40 KB certificate from Python to apply the
rules costs more than parsing it: every element touched from Python costs about what libxml2
spends parsing it. So the common case, a certificate with nothing to report, is decided in C
instead: this module writes an XSD that accepts only certificates in the clean shape, with the
code lists as patterns (countries, units by kind, package codes, transport modes, document types
and statuses). Validating against it replaces the hub profile's XSD for such a certificate; a
short Python pass (:mod:`ephyto_core._screen`) checks what an XSD cannot say (note subjects and
the values that depend on them, treatment characteristics, dates, packaging).

Two properties keep this sound; the tests check both on every corpus and on mutations of it:

1. Narrower than the hub profile: each element here takes a subset of what the hub profile
   takes at the same place (no ``xs:anyType``, no attributes the hub does not declare, every
   optional element of the hub either optional or required here), so a document valid here is
   valid against the hub profile, which would report nothing.
2. Narrower than the rules: whatever the rules would report is refused here or by the Python
   pass. Anything outside the clean shape (an ``OPTND``-only line without measures, a coded
   intended use, an extra attribute, ``xsi:type``) simply takes the full path: slower, same answer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Final
from xml.sax.saxutils import quoteattr

from lxml import etree

from ephyto_core._namespaces import RAM, RSM, UDT
from ephyto_core._validation_tables import Codes, CodeTables

_RSM_FILE: Final = "screen-rsm.xsd"
_RAM_FILE: Final = "screen-ram.xsd"
_UDT_FILE: Final = "screen-udt.xsd"


def _enumeration(name: str, base: str, codes: Iterable[str]) -> str:
    values = sorted(codes)
    pattern = _code_pattern(values) if values else "[^\\s\\S]"
    return (
        f'<xs:simpleType name="{name}"><xs:restriction base="{base}">'
        f"<xs:pattern value={quoteattr(pattern)}/></xs:restriction></xs:simpleType>"
    )


def _code_pattern(codes: Iterable[str]) -> str:
    """A regular expression matching exactly ``codes``, factored as a trie.

    Not xs:enumeration: libxml2 compares a value with each enumeration in turn. Not a flat
    "AD|AE|AF|…" either: its branches share prefixes, so libxml2 cannot make that automaton
    deterministic and tries them all. A trie ("A[DEF]|B…") is deterministic. Measured on a
    typical certificate: the code checks cost ~45 µs as enumerations or flat alternatives and
    a few µs as tries.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for code in codes:
        node = trie
        for char in code:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a code
    return _trie_pattern(trie)


def _trie_pattern(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    ends_here = "" in node
    leaves = sorted(c for c, child in node.items() if c and list(child) == [""])
    branches = [
        _regex_char(c) + _trie_pattern(child)
        for c, child in sorted(node.items())
        if c and list(child) != [""]
    ]
    if len(leaves) == 1:
        branches.append(_regex_char(leaves[0]))
    elif leaves:
        branches.append("[" + "".join(_regex_char(c) for c in leaves) + "]")
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(" + "|".join(branches) + ")"
    if ends_here:
        return (body if body.startswith("(") and body.endswith(")") else f"({body})") + "?"
    return body


def _regex_char(char: str) -> str:
    return char if char.isalnum() else "\\" + char


def _int_codes(name: str, codes: Iterable[str]) -> str:
    # An xs:int enumeration compares values ("070" equals 70); the rules compare the text, so
    # the lexical form is pinned with a pattern (after the whitespace collapse, as they strip).
    values = sorted(c for c in codes if c.isdigit() and c == str(int(c)) and int(c) < 2**31)
    pattern = "|".join(values) if values else "[^\\s\\S]"
    return (
        f'<xs:simpleType name="{name}"><xs:restriction base="xs:int">'
        f"<xs:pattern value={quoteattr(pattern)}/></xs:restriction></xs:simpleType>"
    )


def _string_codes(codes: Codes) -> list[str]:
    # Codes with whitespace could never match what the rules see after stripping; leave them to
    # the full path.
    return [c for c in codes.active if c == c.strip() and "|" not in c]


def _units(tables: CodeTables, kind: str) -> list[str]:
    units = tables.units
    return [c for c in _string_codes(units) if units.column(c, "type") in ("", kind)]


def ram_schema_text(tables: CodeTables) -> str:
    """The ``ram`` part of the screen schema."""
    simple_types = "".join(
        (
            # xs:token collapses XML whitespace, so length 1 means "not blank" (cheaper for
            # libxml2 than a pattern: measured ~7% of the schema pass on a typical certificate).
            '<xs:simpleType name="NonEmpty"><xs:restriction base="xs:token">'
            '<xs:minLength value="1"/></xs:restriction></xs:simpleType>',
            _int_codes("DocumentTypeCode", tables.certificate_types.active),
            _int_codes("StatusCode", tables.certificate_statuses.active),
            _int_codes("ModeCode", tables.transport_modes.active),
            _int_codes("PackageLevelCode", tables.package_levels.active),
            _enumeration("CountryCode", "xs:string", _string_codes(tables.countries)),
            _enumeration("PackageTypeCode", "xs:string", _string_codes(tables.package_types)),
            _enumeration("WeightUnit", "xs:string", _units(tables, "WEIGHT")),
            _enumeration("VolumeUnit", "xs:string", _units(tables, "VOLUME")),
            _enumeration("DurationUnit", "xs:string", _units(tables, "DURATION")),
        )
    )
    return _RAM_TEMPLATE.format(ram=RAM, udt=UDT, udt_file=_UDT_FILE, simple_types=simple_types)


# Each type below mirrors the hub profile's type at the same place (same element names,
# namespaces and order; see schemas/xsd/ReusableAggregateBusinessInformationEntity_21p0.xsd),
# narrowed: required where the rules want the element, code lists as enumerations, plain text
# where the hub has xs:anyType.
_RAM_TEMPLATE: Final = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ram="{ram}" xmlns:udt="{udt}"
           targetNamespace="{ram}" elementFormDefault="qualified" blockDefault="#all">
  <xs:import namespace="{udt}" schemaLocation="{udt_file}"/>
  {simple_types}
  <xs:complexType name="TextType">
    <xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="languageID" type="xs:string"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="NonEmptyText">
    <xs:simpleContent><xs:restriction base="ram:TextType">
      <xs:pattern value="[\\s\\S]*\\S[\\s\\S]*"/>
    </xs:restriction></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="LanguageText">
    <xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="languageID" type="xs:string" use="required"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="ListedCode">
    <xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="listName" type="xs:string"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="Attachment">
    <xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="filename" type="xs:string"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="Measure">
    <xs:simpleContent><xs:extension base="xs:double">
      <xs:attribute name="unitCode" type="xs:string"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="WeightMeasure">
    <xs:simpleContent><xs:extension base="xs:double">
      <xs:attribute name="unitCode" type="ram:WeightUnit" use="required"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="VolumeMeasure">
    <xs:simpleContent><xs:extension base="xs:double">
      <xs:attribute name="unitCode" type="ram:VolumeUnit" use="required"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="DurationMeasure">
    <xs:simpleContent><xs:extension base="xs:double">
      <xs:attribute name="unitCode" type="ram:DurationUnit" use="required"/>
    </xs:extension></xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="RequiredDateTime">
    <xs:sequence><xs:element ref="udt:DateTimeString"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="OptionalDateTime">
    <xs:sequence><xs:element ref="udt:DateTimeString" minOccurs="0"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="LooseDateTime" mixed="true">
    <xs:sequence><xs:element ref="udt:DateTimeString" minOccurs="0"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="Named">
    <xs:sequence><xs:element name="Name" type="ram:NonEmpty"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="MaybeNamed">
    <xs:sequence><xs:element name="Name" type="xs:string" minOccurs="0"/></xs:sequence>
  </xs:complexType>

  <xs:complexType name="SPSExchangedDocumentType">
    <xs:sequence>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
      <xs:element name="ID" type="ram:NonEmpty"/>
      <xs:element name="TypeCode" type="ram:DocumentTypeCode"/>
      <xs:element name="StatusCode" type="ram:StatusCode"/>
      <xs:element name="IssueDateTime" type="ram:RequiredDateTime"/>
      <xs:element name="IssuerSPSParty" type="ram:Named"/>
      <xs:element name="IncludedSPSNote" type="ram:DocumentNote" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="ReferenceSPSReferencedDocument" type="ram:ReferencedDocument"
                  minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="SignatorySPSAuthentication" type="ram:Authentication"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="DocumentNote">
    <xs:sequence>
      <xs:element name="Subject" type="xs:string"/>
      <xs:element name="Content" type="ram:TextType" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="ReferencedDocument">
    <xs:sequence>
      <xs:element name="IssueDateTime" type="ram:LooseDateTime" minOccurs="0"/>
      <xs:element name="TypeCode" type="xs:string"/>
      <xs:element name="RelationshipTypeCode" type="xs:string" minOccurs="0"/>
      <xs:element name="ID" type="xs:string" minOccurs="0"/>
      <xs:element name="AttachmentBinaryObject" type="ram:Attachment" minOccurs="0"/>
      <xs:element name="Information" type="ram:TextType" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Authentication">
    <xs:sequence>
      <xs:element name="ActualDateTime" type="ram:RequiredDateTime"/>
      <xs:element name="IssueSPSLocation" type="ram:Named"/>
      <xs:element name="ProviderSPSParty" type="ram:Provider"/>
      <xs:element name="IncludedSPSClause" type="ram:Clause" minOccurs="0"
                  maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Provider">
    <xs:sequence>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
      <xs:element name="SpecifiedSPSPerson" type="ram:Named"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Clause">
    <xs:sequence>
      <xs:element name="ID" type="xs:int"/>
      <xs:element name="Content" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="SPSConsignmentType">
    <xs:sequence>
      <xs:element name="ConsignorSPSParty" type="ram:Party"/>
      <xs:element name="ConsigneeSPSParty" type="ram:Party"/>
      <xs:element name="ExportSPSCountry" type="ram:Country"/>
      <xs:element name="ImportSPSCountry" type="ram:Country"/>
      <xs:element name="TransitSPSCountry" type="ram:OtherCountry" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="UnloadingBaseportSPSLocation" type="ram:Location" minOccurs="0"/>
      <xs:element name="ExaminationSPSEvent" type="ram:Event" minOccurs="0"/>
      <xs:element name="MainCarriageSPSTransportMovement" type="ram:Movement" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="UtilizedSPSTransportEquipment" type="ram:Equipment" minOccurs="0"/>
      <xs:element name="IncludedSPSConsignmentItem" type="ram:Item" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Party">
    <xs:sequence>
      <xs:element name="Name" type="ram:NonEmpty"/>
      <xs:element name="TypeCode" type="ram:ListedCode" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="SpecifiedSPSAddress" type="ram:Address" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Address">
    <xs:sequence>
      <xs:element name="LineOne" type="xs:string" minOccurs="0"/>
      <xs:element name="LineTwo" type="xs:string" minOccurs="0"/>
      <xs:element name="LineThree" type="xs:string" minOccurs="0"/>
      <xs:element name="LineFour" type="xs:string" minOccurs="0"/>
      <xs:element name="LineFive" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Country">
    <xs:sequence>
      <xs:element name="ID" type="ram:CountryCode"/>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="OtherCountry">
    <xs:sequence>
      <xs:element name="ID" type="ram:CountryCode" minOccurs="0"/>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Location">
    <xs:sequence>
      <xs:element name="ID" type="xs:string" minOccurs="0"/>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Event">
    <xs:sequence>
      <xs:element name="OccurrenceSPSLocation" type="ram:MaybeNamed" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Movement">
    <xs:sequence>
      <xs:element name="ID" type="xs:string" minOccurs="0"/>
      <xs:element name="ModeCode" type="ram:ModeCode"/>
      <xs:element name="UsedSPSTransportMeans" type="ram:MaybeNamed" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Equipment">
    <xs:sequence>
      <xs:element name="ID" type="xs:string" form="unqualified" minOccurs="0"/>
      <xs:element name="AffixedSPSSeal" type="ram:Seal" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Seal">
    <xs:sequence>
      <xs:element name="ID" type="xs:string" form="unqualified" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Item">
    <xs:sequence>
      <xs:element name="IncludedSPSTradeLineItem" type="ram:TradeLine" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="TradeLine">
    <xs:sequence>
      <xs:element name="SequenceNumeric" type="xs:int"/>
      <xs:element name="Description" type="ram:TextType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="CommonName" type="ram:TextType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="ScientificName" type="ram:NonEmptyText" maxOccurs="unbounded"/>
      <xs:element name="IntendedUse" type="ram:LanguageText" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:choice>
        <xs:sequence>
          <xs:element name="NetWeightMeasure" type="ram:WeightMeasure"/>
          <xs:element name="GrossWeightMeasure" type="ram:WeightMeasure" minOccurs="0"/>
          <xs:element name="NetVolumeMeasure" type="ram:VolumeMeasure" minOccurs="0"/>
          <xs:element name="GrossVolumeMeasure" type="ram:VolumeMeasure" minOccurs="0"/>
        </xs:sequence>
        <xs:sequence>
          <xs:element name="GrossWeightMeasure" type="ram:WeightMeasure"/>
          <xs:element name="NetVolumeMeasure" type="ram:VolumeMeasure" minOccurs="0"/>
          <xs:element name="GrossVolumeMeasure" type="ram:VolumeMeasure" minOccurs="0"/>
        </xs:sequence>
        <xs:sequence>
          <xs:element name="NetVolumeMeasure" type="ram:VolumeMeasure"/>
          <xs:element name="GrossVolumeMeasure" type="ram:VolumeMeasure" minOccurs="0"/>
        </xs:sequence>
        <xs:element name="GrossVolumeMeasure" type="ram:VolumeMeasure"/>
      </xs:choice>
      <xs:element name="AdditionalInformationSPSNote" type="ram:LineNote" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="ApplicableSPSClassification" type="ram:Classification" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="PhysicalSPSPackage" type="ram:Package" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="OriginSPSCountry" type="ram:Origin" minOccurs="0"
                  maxOccurs="unbounded"/>
      <xs:element name="AppliedSPSProcess" type="ram:Process" minOccurs="0"
                  maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="LineNote">
    <xs:sequence>
      <xs:element name="Subject" type="xs:string"/>
      <xs:element name="Content" type="ram:TextType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Classification">
    <xs:sequence>
      <xs:element name="SystemName" type="xs:string"/>
      <xs:element name="ClassCode" type="xs:string"/>
      <xs:element name="ClassName" type="ram:TextType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Package">
    <xs:sequence>
      <xs:element name="LevelCode" type="ram:PackageLevelCode"/>
      <xs:element name="TypeCode" type="ram:PackageTypeCode" minOccurs="0"/>
      <xs:element name="ItemQuantity" type="xs:double"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Origin">
    <xs:sequence>
      <xs:element name="ID" type="ram:CountryCode" minOccurs="0"/>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
      <xs:element name="SubordinateSPSCountrySubDivision" type="ram:SubDivision"
                  minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="SubDivision">
    <xs:sequence>
      <xs:element name="Name" type="xs:string" minOccurs="0"/>
      <xs:element name="HierarchicalLevelCode" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Process">
    <xs:sequence>
      <xs:element name="TypeCode" type="xs:string" minOccurs="0"/>
      <xs:element name="CompletionSPSPeriod" type="ram:Period" minOccurs="0"/>
      <xs:element name="ApplicableSPSProcessCharacteristic" type="ram:Characteristic"
                  maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Period">
    <xs:sequence>
      <xs:element name="StartDateTime" type="ram:OptionalDateTime" minOccurs="0"/>
      <xs:element name="EndDateTime" type="ram:OptionalDateTime" minOccurs="0"/>
      <xs:element name="DurationMeasure" type="ram:DurationMeasure" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Characteristic">
    <xs:sequence>
      <xs:element name="Description" type="ram:TextType" maxOccurs="unbounded"/>
      <xs:element name="ValueMeasure" type="ram:Measure" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
</xs:schema>
"""

_RSM_TEMPLATE: Final = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:rsm="{rsm}" xmlns:ram="{ram}"
           targetNamespace="{rsm}" elementFormDefault="qualified" blockDefault="#all">
  <xs:import namespace="{ram}" schemaLocation="{ram_file}"/>
  <xs:element name="SPSCertificate">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="SPSExchangedDocument" type="ram:SPSExchangedDocumentType"/>
        <xs:element name="SPSConsignment" type="ram:SPSConsignmentType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

_UDT_TEMPLATE: Final = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{udt}"
           elementFormDefault="qualified" blockDefault="#all">
  <xs:element name="DateTimeString" type="xs:string"/>
</xs:schema>
"""


class _InMemory(etree.Resolver):
    """Serves the two imported screen modules from memory; refuses every other URL."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__()
        self._files = files

    def resolve(self, system_url: str, public_id: str, context: object) -> object:  # type: ignore[override]
        name = system_url.rsplit("/", 1)[-1]
        if name not in self._files:
            raise ValueError(f"screen schema refuses to load {system_url}")
        return self.resolve_string(self._files[name], context, base_url=system_url)


_XS: Final = "{http://www.w3.org/2001/XMLSchema}"
#: Types that must keep a name: those of rsm:SPSExchangedDocument and rsm:SPSConsignment (another
#: schema module refers to them) and TextType (the base of a restriction). They keep the hub
#: profile's names; an ``xsi:type`` naming one names the hub's type of that name as well, a
#: complex type of which ours is a narrowing.
_NAMED_TYPES: Final = frozenset({"SPSExchangedDocumentType", "SPSConsignmentType", "TextType"})


def _anonymous_element_types(schema_text: str) -> str:
    """Inline every named type used by an element or attribute, then drop those left unused.

    A document may name an element's type in ``xsi:type``. The hub profile knows none of our
    type names and would refuse what we accepted, and libxml2 lets ``xsi:type`` name a simple
    type that merely shares a base with the declared one. With no named simple types left, and
    ``blockDefault="#all"`` against derived types, any ``xsi:type`` the hub might read
    differently fails here and the document takes the full path.
    """
    root = etree.fromstring(schema_text.encode())
    named = {
        t.get("name"): t
        for t in root
        if t.tag in (_XS + "complexType", _XS + "simpleType") and t.get("name")
    }
    # Until none is left: an inlined type may itself use named ones (types do not recurse).
    while users := [
        user
        for user in root.iter(_XS + "element", _XS + "attribute")
        if (user.get("type") or "").removeprefix("ram:") in named
    ]:
        for user in users:
            type_name = (user.get("type") or "").removeprefix("ram:")
            del user.attrib["type"]
            anonymous = copy.deepcopy(named[type_name])
            del anonymous.attrib["name"]
            user.append(anonymous)
    referenced = {
        (el.get(attribute) or "").removeprefix("ram:")
        for el in root.iter()
        for attribute in ("type", "base")
    }
    for name, definition in named.items():
        if name not in referenced and name not in _NAMED_TYPES:
            root.remove(definition)
    return etree.tostring(root, encoding="unicode")


def compile_screen(tables: CodeTables) -> etree.XMLSchema:
    """The screen schema, compiled."""
    files = {
        _RAM_FILE: _anonymous_element_types(ram_schema_text(tables)),
        _UDT_FILE: _UDT_TEMPLATE.format(udt=UDT),
    }
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_InMemory(files))
    entry = _RSM_TEMPLATE.format(rsm=RSM, ram=RAM, ram_file=_RAM_FILE)
    document = etree.fromstring(entry.encode(), parser, base_url=f"memory:/{_RSM_FILE}")
    return etree.XMLSchema(document)
