"""The typed phytosanitary certificate (UN/CEFACT SPSCertificate 17, as the hub profiles it).

Every class is a frozen, slotted, keyword-only dataclass; repeated parts are tuples, so a
certificate is hashable and compares by value. The shape follows the hub's schema profile
(``conformance/hub-xsd``), not the wider UN/CEFACT D17A schema: where the profile allows one
(a note's ``Content``, the transport equipment and its seal) the model holds one.

Conventions the builder and reader share, which make ``read(build(c)) == c`` hold:

- ``None`` means "element absent"; a string (even ``""``) means "element present, with this text".
  Free text is kept verbatim (no stripping).
- Measures and quantities are :class:`~decimal.Decimal`; date-times are timezone-aware.
- Fields the schema requires (``TypeCode``, ``SequenceNumeric``…) are required here too, and
  so are the identifiers nothing works without (certificate number, country codes); the reader
  fills an absent one with ``""``.
- Text must be XML-compatible (no NUL or control characters other than tab, CR, LF): the
  builder raises ``ValueError`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

#: ``CertificateType`` / document ``TypeCode``: phytosanitary certificate (export).
EXPORT_CERTIFICATE: Final = 851
#: ``CertificateType`` / document ``TypeCode``: phytosanitary certificate for re-export.
REEXPORT_CERTIFICATE: Final = 657
#: ``StatusCode`` of an issued certificate.
STATUS_ISSUED: Final = 70
#: ``StatusCode`` withdrawing an earlier certificate *(inferred from an implementer's code)*.
STATUS_WITHDRAWN: Final = 40

_MAX_ADDRESS_LINES: Final = 5


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A text with an optional ``languageID`` (ISO 639-1, e.g. ``en``)."""

    value: str
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    """A quantity with its UNECE Rec 20 unit (``KGM``, ``MTQ``, ``CEL``, ``HUR``…)."""

    value: Decimal
    unit_code: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not self.value.is_finite():
            raise ValueError(f"measure value must be a finite Decimal, got {self.value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """A code with the name of its list (a party's ``TypeCode listName=…``)."""

    value: str
    list_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A document-level ``IncludedSPSNote``: a coded subject and one content (the profile's
    limit; a multilingual declaration is one note per language)."""

    subject: str
    content: Text


@dataclass(frozen=True, slots=True, kw_only=True)
class LineNote:
    """A trade line's ``AdditionalInformationSPSNote``: a coded subject and its texts."""

    subject: str
    contents: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file carried base64-encoded in ``AttachmentBinaryObject``."""

    filename: str | None
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferencedDocument:
    """``ReferenceSPSReferencedDocument`` (e.g. an attached laboratory report). The profile
    requires ``TypeCode``: ``None`` is written as an empty element, and an empty one reads back
    as ``None`` (the one place where ``""`` and ``None`` meet)."""

    type_code: str | None = None
    relationship_type_code: str | None = None
    id: str | None = None
    issue_datetime: datetime | None = None
    attachment: Attachment | None = None
    information: Text | None = None

    def __post_init__(self) -> None:
        _require_aware(self.issue_datetime, "referenced document issue_datetime")


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """An ``IncludedSPSClause`` of the signatory authentication."""

    id: int
    content: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Signatory:
    """``SignatorySPSAuthentication``: when, where and by whom the certificate was signed."""

    actual_datetime: datetime | None = None
    place_name: str | None = None
    provider_name: str | None = None
    person_name: str | None = None
    clauses: tuple[Clause, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.actual_datetime, "signatory actual_datetime")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangedDocument:
    """``SPSExchangedDocument``: the certificate's identity, issuer, notes and signature."""

    certificate_number: str
    type_code: int
    status_code: int
    name: str | None = None
    issue_datetime: datetime | None = None
    issuer_name: str | None = None
    notes: tuple[Note, ...] = ()
    referenced_documents: tuple[ReferencedDocument, ...] = ()
    signatory: Signatory | None = None

    def __post_init__(self) -> None:
        _require_aware(self.issue_datetime, "issue_datetime")


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Consignor or consignee. The profile gives a party no ID, only codes and address lines."""

    name: str | None = None
    type_codes: tuple[Code, ...] = ()
    address_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.address_lines) > _MAX_ADDRESS_LINES:
            raise ValueError(
                f"a party has at most {_MAX_ADDRESS_LINES} address lines, "
                f"got {len(self.address_lines)}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Country:
    """Export, import or transit country: ISO 3166-1 alpha-2 ``id`` and an optional name."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Subdivision:
    """``SubordinateSPSCountrySubDivision`` of an origin country (the place of origin)."""

    name: str | None = None
    hierarchical_level_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginCountry:
    """``OriginSPSCountry`` of a trade line, optionally narrowed to a subdivision."""

    id: str
    name: str | None = None
    subdivision: Subdivision | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """A place: UN/LOCODE ``id`` (e.g. ``NLRTM``) and a name."""

    id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportMovement:
    """``MainCarriageSPSTransportMovement``: UNECE Rec 19 ``mode_code`` (1 sea, 3 road, 4 air…)."""

    mode_code: int
    id: str | None = None
    means_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportEquipment:
    """``UtilizedSPSTransportEquipment`` (a container) and its one ``AffixedSPSSeal``."""

    id: str | None = None
    seal_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """``ApplicableSPSClassification``: ``system_name`` is ``HS``, ``IPPCPCVP`` (product
    description) or ``IPPCPCC`` (commodity condition)."""

    system_name: str
    class_code: str | None = None
    class_names: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """``PhysicalSPSPackage``: Rec 21 level (1–5) and type (``BX``, ``CT``…) and a count."""

    level: int
    quantity: Decimal
    type_code: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite():
            raise ValueError(f"package quantity must be a finite Decimal, got {self.quantity!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessCharacteristic:
    """``ApplicableSPSProcessCharacteristic``. Its first ``Description`` is the coded ``code``
    (``TTL1``, ``TTCH``, ``TTTM``, ``TTFT``…); the rest are ``descriptions``."""

    code: str
    descriptions: tuple[Text, ...] = ()
    value: Measure | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedProcess:
    """``AppliedSPSProcess``: a treatment, its completion period and its characteristics."""

    type_code: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration: Measure | None = None
    characteristics: tuple[ProcessCharacteristic, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.start, "treatment start")
        _require_aware(self.end, "treatment end")


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeLineItem:
    """``IncludedSPSTradeLineItem``: one commodity line of the consignment."""

    sequence: int
    descriptions: tuple[Text, ...] = ()
    common_names: tuple[Text, ...] = ()
    scientific_names: tuple[Text, ...] = ()
    intended_uses: tuple[Text, ...] = ()
    net_weight: Measure | None = None
    gross_weight: Measure | None = None
    net_volume: Measure | None = None
    gross_volume: Measure | None = None
    additional_notes: tuple[LineNote, ...] = ()
    classifications: tuple[Classification, ...] = ()
    packages: tuple[Package, ...] = ()
    origin_countries: tuple[OriginCountry, ...] = ()
    treatments: tuple[AppliedProcess, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Consignment:
    """``SPSConsignment``. The profile nests trade lines in ``IncludedSPSConsignmentItem``; the
    model keeps them flat (the builder writes one item, the reader joins all items)."""

    consignor: Party | None = None
    consignee: Party | None = None
    export_country: Country | None = None
    import_country: Country | None = None
    transit_countries: tuple[Country, ...] = ()
    unloading_baseport: Location | None = None
    examination_location_name: str | None = None
    transport_movements: tuple[TransportMovement, ...] = ()
    transport_equipment: TransportEquipment | None = None
    cargo_type_code: str | None = None
    trade_line_items: tuple[TradeLineItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A whole ``SPSCertificate``."""

    document: ExchangedDocument
    consignment: Consignment


def withdrawal_of(cert: Certificate) -> Certificate:
    """The withdrawal of ``cert``: the same content with status ``STATUS_WITHDRAWN`` (40)."""
    return replace(cert, document=replace(cert.document, status_code=STATUS_WITHDRAWN))
