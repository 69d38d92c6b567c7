"""The ``MandatoryElements`` and ``Mapping`` checks of a certificate, in one walk of the tree.

The hub's schema makes nearly every element optional, so what a certificate must carry (the boxes
of ISPM 12) and which codes it may use are checked here. The walk visits the elements the rules
care about once, in document order, and looks codes up in prebuilt sets; a field path is built
only for a finding. It is the statement of the rules, written to be read, and on a 40 KB
certificate it costs about what parsing it does; so certificates with nothing to report are
cleared by the fast path (:mod:`ephyto_core._screen`) and only the others come here.

Levels. SEVERE is kept for what makes the certificate wrong or unreadable for the importer, so
the hub refuses it: a missing ISPM 12 box; a document type, status, export/import country,
statement or transport mode that is not in its list; a quantity in an unknown unit or a unit of
the wrong kind; a note limited to the other document type (the RPC* re-export box on an 851).
WARNING is for what real senders do differently while the importer can still read the
certificate: lists that national systems extend or lag behind (package types, treatment types,
pesticides, intended uses, commodity classes, note subjects), values backed by free text
(``TTFT`` beside structured treatments), retired codes whose text is still known, redundancy.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from ephyto_core._fieldpath import below, field_path
from ephyto_core._namespaces import RAM, RSM, UDT
from ephyto_core._validation_result import Area, Level, ValidationResult
from ephyto_core._validation_tables import Codes, CodeTables, only_on
from ephyto_core._values import is_boolean, is_iso_datetime, is_number
from ephyto_core._values import text_of as _text

_R = "{" + RAM + "}"
_S = "{" + RSM + "}"

T_CERTIFICATE: Final = _S + "SPSCertificate"
T_DOCUMENT: Final = _S + "SPSExchangedDocument"
T_CONSIGNMENT: Final = _S + "SPSConsignment"
T_ID: Final = _R + "ID"
T_NAME: Final = _R + "Name"
T_TYPE: Final = _R + "TypeCode"
T_STATUS: Final = _R + "StatusCode"
T_ISSUED: Final = _R + "IssueDateTime"
T_ISSUER: Final = _R + "IssuerSPSParty"
T_NOTE: Final = _R + "IncludedSPSNote"
T_SUBJECT: Final = _R + "Subject"
T_CONTENT: Final = _R + "Content"
T_SIGNATORY: Final = _R + "SignatorySPSAuthentication"
T_SIGNED: Final = _R + "ActualDateTime"
T_PLACE: Final = _R + "IssueSPSLocation"
T_PROVIDER: Final = _R + "ProviderSPSParty"
T_PERSON: Final = _R + "SpecifiedSPSPerson"
T_DATETIME_STRING: Final = "{" + UDT + "}DateTimeString"
T_CONSIGNOR: Final = _R + "ConsignorSPSParty"
T_CONSIGNEE: Final = _R + "ConsigneeSPSParty"
T_EXPORT: Final = _R + "ExportSPSCountry"
T_IMPORT: Final = _R + "ImportSPSCountry"
T_TRANSIT: Final = _R + "TransitSPSCountry"
T_CARRIAGE: Final = _R + "MainCarriageSPSTransportMovement"
T_MODE: Final = _R + "ModeCode"
T_ITEM: Final = _R + "IncludedSPSConsignmentItem"
T_LINE: Final = _R + "IncludedSPSTradeLineItem"
T_SCIENTIFIC: Final = _R + "ScientificName"
T_INTENDED_USE: Final = _R + "IntendedUse"
T_LINE_NOTE: Final = _R + "AdditionalInformationSPSNote"
T_CLASSIFICATION: Final = _R + "ApplicableSPSClassification"
T_SYSTEM: Final = _R + "SystemName"
T_CLASS_CODE: Final = _R + "ClassCode"
T_PACKAGE: Final = _R + "PhysicalSPSPackage"
T_LEVEL: Final = _R + "LevelCode"
T_QUANTITY: Final = _R + "ItemQuantity"
T_ORIGIN: Final = _R + "OriginSPSCountry"
T_PROCESS: Final = _R + "AppliedSPSProcess"
T_PERIOD: Final = _R + "CompletionSPSPeriod"
T_DURATION: Final = _R + "DurationMeasure"
T_CHARACTERISTIC: Final = _R + "ApplicableSPSProcessCharacteristic"
T_DESCRIPTION: Final = _R + "Description"
T_VALUE: Final = _R + "ValueMeasure"

#: Trade-line quantity measures and the unit kind each needs.
_LINE_MEASURES: Final = {
    _R + "NetWeightMeasure": "WEIGHT",
    _R + "GrossWeightMeasure": "WEIGHT",
    _R + "NetVolumeMeasure": "VOLUME",
    _R + "GrossVolumeMeasure": "VOLUME",
}
#: Treatment characteristics measured in a ``ValueMeasure``, and the unit kind each needs.
CHARACTERISTIC_UNITS: Final = {"TTTM": "TEMPERATURE", "TTCO": "CONCENTRATION"}

DOCUMENT_PATH: Final = "/rsm:SPSCertificate/rsm:SPSExchangedDocument"
CONSIGNMENT_PATH: Final = "/rsm:SPSCertificate/rsm:SPSConsignment"

REEXPORT: Final = "657"
PACKAGING_NOTE = "OPTND"
_OTHER_QUANTITY = "OQV"
REPLACEMENT = "ADRP"
REPLACED_NUMBER = "ADRPN"
REPLACEMENT_PARTS = ("ADRPN", "ADRPR", "ADRD")
FREE_TEXT_TREATMENT = "TTFT"
_TREATMENT_LEVELS: Final = {"TTL1": "1", "TTL2": "2"}

_DOCUMENT = "document"
_LINE = "trade_line"
_TREATMENT = "treatment"
_SCOPE_WORDS: Final = {
    _DOCUMENT: "the document (ram:IncludedSPSNote)",
    _LINE: "a trade line (ram:AdditionalInformationSPSNote)",
    _TREATMENT: "a treatment (ram:ApplicableSPSProcessCharacteristic)",
}


def _first(el: etree._Element | None, tag: str) -> etree._Element | None:
    return None if el is None else el.find(tag)


def _shown(value: str) -> str:
    return f"'{value}'" if value else "An empty value"


def _date_text(el: etree._Element) -> str:
    """A date-time as senders write it: in ``udt:DateTimeString`` or directly as text."""
    inner = el.find(T_DATETIME_STRING)
    return _text(inner) if inner is not None else _text(el)


class _Findings:
    """Collects results; a finding's field path is computed when it is recorded, never before."""

    __slots__ = ("items", "root")

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.items: list[ValidationResult] = []

    def path(self, el: etree._Element) -> str:
        return field_path(el, self.root)

    def add(self, area: Area, level: Level, field: str, msg: str) -> None:
        self.items.append(ValidationResult(area, level, field, msg))

    def missing(self, field: str, msg: str) -> None:
        self.add(Area.MANDATORY, Level.SEVERE, field, msg)

    def mapping(self, level: Level, el: etree._Element, msg: str) -> None:
        self.add(Area.MAPPING, level, self.path(el), msg)


class CertificateRules:
    """Checks one certificate tree against the mandatory-element and code-list rules."""

    def __init__(self, tables: CodeTables) -> None:
        self._t = tables

    def check(self, root: etree._Element) -> list[ValidationResult]:
        """Findings in document order; ``[]`` when ``root`` is not an ``rsm:SPSCertificate``
        (the schema check says so, and no rule below would mean anything)."""
        if root.tag != T_CERTIFICATE:
            return []
        out = _Findings(root)
        document = root.find(T_DOCUMENT)
        type_el, type_code = self._document(document, out)
        reexport_notes = self._consignment(root.find(T_CONSIGNMENT), type_code, out)
        if type_code == REEXPORT and not reexport_notes:
            out.add(
                Area.MAPPING,
                Level.WARNING,
                out.path(type_el) if type_el is not None else below(DOCUMENT_PATH, "ram:TypeCode"),
                "A re-export certificate (657) has no re-export note (RPC* subject) on any trade "
                "line; expected at least the original certificate number (RPCRF) and the "
                "country of origin (RPCCO).",
            )
        return out.items

    # --- codes -----------------------------------------------------------------------------------

    def _code(
        self,
        el: etree._Element,
        value: str,
        codes: Codes,
        level: Level,
        what: str,
        expected: str,
        out: _Findings,
    ) -> bool:
        """Records a finding unless ``value`` is an active code; True if the code is known."""
        if value in codes.active:
            return True
        if value in codes.retired:
            # Retired codes keep their texts, so the importer can still show what was meant.
            out.mapping(
                Level.WARNING,
                el,
                f"'{value}' is a retired {what}; expected a current one ({expected}).",
            )
            return True
        out.mapping(level, el, f"{_shown(value)} is not a known {what}; expected {expected}.")
        return False

    def _value(
        self, kind: str, subject: str, el: etree._Element, type_code: str, out: _Findings
    ) -> None:
        """Checks a coded note's value by the kind the note-subject list gives it."""
        t = self._t
        value = _text(el)
        if kind == "statement":
            # The statement is the certifying text itself; an importer that prints it from the
            # code cannot print an unknown one.
            if self._code(
                el,
                value,
                t.statements,
                Level.SEVERE,
                f"statement code ({subject} note)",
                "a code from the hub's statement list (GetStatements)",
                out,
            ):
                only = only_on(t.statements, value)
                if only and type_code and only != type_code:
                    out.mapping(
                        Level.SEVERE,
                        el,
                        f"Statement '{value}' may only appear on a {only} certificate; this one "
                        f"is a {type_code}.",
                    )
        elif kind == "country":
            self._code(
                el,
                value,
                t.countries,
                Level.WARNING,
                f"country code ({subject} note)",
                "an ISO 3166-1 alpha-2 code",
                out,
            )
        elif kind == "pesticide":
            self._code(
                el,
                value,
                t.pesticides,
                Level.WARNING,
                f"chemical ({subject})",
                "a Codex pesticide code from the hub's list (GetPesticides)",
                out,
            )
        elif kind == "date" and not is_iso_datetime(value):
            out.mapping(Level.WARNING, el, f"{_shown(value)} ({subject}) is not an ISO 8601 date.")
        elif kind == "number" and not is_number(value):
            out.mapping(Level.WARNING, el, f"{_shown(value)} ({subject}) is not a number.")
        elif kind == "boolean" and not is_boolean(value):
            out.mapping(
                Level.WARNING,
                el,
                f"{_shown(value)} ({subject}) is not a boolean; expected true or false.",
            )

    def _subject(
        self,
        subject_el: etree._Element | None,
        scope: str,
        type_code: str,
        out: _Findings,
    ) -> tuple[str, str]:
        """Checks a coded note subject (or treatment characteristic code) where it is used;
        returns the subject and the kind of value it carries (``""`` when unknown)."""
        if subject_el is None:
            return "", ""
        subject = _text(subject_el)
        codes = self._t.note_subjects
        # Importers skip notes they do not know, and national systems do add their own.
        if not self._code(
            subject_el,
            subject,
            codes,
            Level.WARNING,
            f"note subject for {_SCOPE_WORDS[scope]}",
            "a subject from the hub's note-subject list; importers may ignore this note",
            out,
        ):
            return subject, ""
        known_scope = codes.column(subject, "scope")
        if known_scope and known_scope != scope:
            # The text is still there, but readers that look for it in its place will miss it.
            out.mapping(
                Level.WARNING,
                subject_el,
                f"Note subject '{subject}' belongs on "
                f"{_SCOPE_WORDS.get(known_scope, known_scope)}, not on {_SCOPE_WORDS[scope]}.",
            )
        only = only_on(codes, subject)
        if only and type_code and only != type_code:
            # e.g. the RPC* re-export box on an export certificate: it certifies handling in a
            # re-exporting country that an 851 does not cover. Its value is not checked on top.
            out.mapping(
                Level.SEVERE,
                subject_el,
                f"Note subject '{subject}' may only appear on a {only} certificate; this one "
                f"is a {type_code}.",
            )
            return subject, ""
        return subject, codes.column(subject, "value_kind")

    # --- SPSExchangedDocument --------------------------------------------------------------------

    def _document(
        self, doc: etree._Element | None, out: _Findings
    ) -> tuple[etree._Element | None, str]:
        """Checks the document part; returns its TypeCode element and value."""
        t = self._t
        path = out.path(doc) if doc is not None else DOCUMENT_PATH
        kids: dict[object, list[etree._Element]] = {}
        for child in doc if doc is not None else ():
            kids.setdefault(child.tag, []).append(child)

        def one(tag: str) -> etree._Element | None:
            found = kids.get(tag)
            return found[0] if found else None

        if not _text(one(T_ID)):
            out.missing(
                below(path, "ram:ID"),
                "The certificate number (ram:ID) is missing or empty; expected the NPPO's "
                "certificate number, the same as the envelope's NPPOCertificateNumber.",
            )
        # The hub authorises and routes by document type and status: unknown ones are refused.
        type_el = one(T_TYPE)
        type_code = _text(type_el)
        if not type_code:
            out.missing(
                below(path, "ram:TypeCode"),
                "The certificate type (ram:TypeCode) is missing or empty; expected 851 "
                "(phytosanitary certificate) or 657 (for re-export).",
            )
        elif type_el is not None and not self._code(
            type_el,
            type_code,
            t.certificate_types,
            Level.SEVERE,
            "certificate type (ram:TypeCode)",
            "851 (phytosanitary certificate) or 657 (for re-export)",
            out,
        ):
            type_code = ""  # no document-type rules against an unknown type
        status_el = one(T_STATUS)
        if not _text(status_el):
            out.missing(
                below(path, "ram:StatusCode"),
                "The certificate status (ram:StatusCode) is missing or empty; expected e.g. 70 "
                "(issued).",
            )
        elif status_el is not None:
            self._code(
                status_el,
                _text(status_el),
                t.certificate_statuses,
                Level.SEVERE,
                "certificate status (ram:StatusCode)",
                "a status from the hub's list, e.g. 70 (issued)",
                out,
            )
        self._datetime(one(T_ISSUED), below(path, "ram:IssueDateTime"), "issue date", out)
        issuer = one(T_ISSUER)
        if not _text(_first(issuer, T_NAME)):
            out.missing(
                below(out.path(issuer), "ram:Name")
                if issuer is not None
                else below(path, "ram:IssuerSPSParty", "ram:Name"),
                "The issuing NPPO's name (ram:IssuerSPSParty/ram:Name) is missing or empty.",
            )
        self._document_notes(kids.get(T_NOTE, []), type_code, out)
        self._signatory(one(T_SIGNATORY), path, out)
        return type_el, type_code

    def _datetime(self, el: etree._Element | None, field: str, what: str, out: _Findings) -> None:
        value = _date_text(el) if el is not None else ""
        if el is None or not value:
            out.missing(field, f"The {what} is missing or empty; expected an ISO 8601 date-time.")
        elif not is_iso_datetime(value):
            out.add(
                Area.MANDATORY,
                Level.SEVERE,
                out.path(el),
                f"The {what} '{value}' is not an ISO 8601 date-time; expected e.g. "
                "2025-03-14T09:30:00+03:00.",
            )

    def _signatory(self, sig: etree._Element | None, doc_path: str, out: _Findings) -> None:
        path = (
            out.path(sig) if sig is not None else below(doc_path, "ram:SignatorySPSAuthentication")
        )
        self._datetime(
            _first(sig, T_SIGNED), below(path, "ram:ActualDateTime"), "signing date", out
        )
        if not _text(_first(_first(sig, T_PLACE), T_NAME)):
            out.missing(
                below(path, "ram:IssueSPSLocation", "ram:Name"),
                "The place of issue (ram:IssueSPSLocation/ram:Name) is missing or empty.",
            )
        if not _text(_first(_first(_first(sig, T_PROVIDER), T_PERSON), T_NAME)):
            out.missing(
                below(path, "ram:ProviderSPSParty", "ram:SpecifiedSPSPerson", "ram:Name"),
                "The authorised officer's name (ram:ProviderSPSParty/ram:SpecifiedSPSPerson/"
                "ram:Name) is missing or empty.",
            )

    def _document_notes(self, notes: list[etree._Element], type_code: str, out: _Findings) -> None:
        first_with: dict[str, etree._Element] = {}
        for note in notes:
            subject, kind = self._subject(note.find(T_SUBJECT), _DOCUMENT, type_code, out)
            first_with.setdefault(subject, note)
            content = note.find(T_CONTENT)
            if kind and kind != "text":
                self._value(kind, subject, content if content is not None else note, type_code, out)
        if REPLACEMENT in first_with and REPLACED_NUMBER not in first_with:
            # Without the replaced number the importer cannot tell which certificate to cancel.
            out.mapping(
                Level.SEVERE,
                first_with[REPLACEMENT],
                "A replacement (ADRP note) must name the certificate it replaces; expected an "
                "ADRPN note with the replaced certificate's number.",
            )
        if REPLACEMENT not in first_with:
            for subject in REPLACEMENT_PARTS:
                if subject in first_with:
                    out.mapping(
                        Level.WARNING,
                        first_with[subject],
                        f"A {subject} note describes a replacement, but no ADRP note says this "
                        "certificate replaces another.",
                    )

    # --- SPSConsignment --------------------------------------------------------------------------

    def _consignment(self, cons: etree._Element | None, type_code: str, out: _Findings) -> bool:
        """Checks the consignment part; returns whether any trade line has an RPC* note."""
        t = self._t
        path = out.path(cons) if cons is not None else CONSIGNMENT_PATH
        found: dict[str, etree._Element] = {}
        lines: list[etree._Element] = []
        for child in cons if cons is not None else ():
            tag = child.tag
            if tag in (T_CONSIGNOR, T_CONSIGNEE, T_EXPORT, T_IMPORT):
                assert isinstance(tag, str)
                found.setdefault(tag, child)
            elif tag == T_TRANSIT:
                self._country(child.find(T_ID), Level.WARNING, "transit country", out)
            elif tag == T_CARRIAGE:
                mode = child.find(T_MODE)
                if mode is not None:
                    # UN/ECE Rec 19 has ten fixed modes; anything else is simply wrong.
                    self._code(
                        mode,
                        _text(mode),
                        t.transport_modes,
                        Level.SEVERE,
                        "transport mode code",
                        "a UN/ECE Recommendation 19 code (e.g. 1 sea, 3 road, 4 air)",
                        out,
                    )
            elif tag == T_ITEM:
                found.setdefault(T_ITEM, child)
                lines.extend(child.iterchildren(T_LINE))
        for tag, step, what in (
            (T_CONSIGNOR, "ram:ConsignorSPSParty", "consignor"),
            (T_CONSIGNEE, "ram:ConsigneeSPSParty", "consignee"),
        ):
            party = found.get(tag)
            if not _text(_first(party, T_NAME)):
                out.missing(
                    below(out.path(party), "ram:Name")
                    if party is not None
                    else below(path, step, "ram:Name"),
                    f"The {what}'s name ({step}/ram:Name) is missing or empty.",
                )
        for tag, step, what in (
            (T_EXPORT, "ram:ExportSPSCountry", "exporting country"),
            (T_IMPORT, "ram:ImportSPSCountry", "importing country"),
        ):
            country = found.get(tag)
            code_el = _first(country, T_ID)
            if code_el is None or not _text(code_el):
                out.missing(
                    below(out.path(country), "ram:ID")
                    if country is not None
                    else below(path, step, "ram:ID"),
                    f"The {what} ({step}/ram:ID) is missing or empty; expected an ISO 3166-1 "
                    "alpha-2 code.",
                )
            else:
                # Export and import countries name the NPPOs at both ends of the exchange.
                self._country(code_el, Level.SEVERE, what, out)
        if not lines:
            item = found.get(T_ITEM)
            out.missing(
                below(out.path(item), "ram:IncludedSPSTradeLineItem")
                if item is not None
                else below(path, "ram:IncludedSPSConsignmentItem", "ram:IncludedSPSTradeLineItem"),
                "The certificate has no trade line (ram:IncludedSPSTradeLineItem); expected at "
                "least one commodity.",
            )
        reexport = False
        for line in lines:
            reexport = self._trade_line(line, type_code, out) or reexport
        return reexport

    def _country(
        self, code_el: etree._Element | None, level: Level, what: str, out: _Findings
    ) -> None:
        if code_el is not None:
            self._code(
                code_el,
                _text(code_el),
                self._t.countries,
                level,
                f"{what} code",
                "an ISO 3166-1 alpha-2 code",
                out,
            )

    # --- IncludedSPSTradeLineItem ----------------------------------------------------------------

    def _trade_line(self, line: etree._Element, type_code: str, out: _Findings) -> bool:
        """Checks one trade line; returns whether it carries an RPC* (re-export) note."""
        has_name = has_quantity = reexport = False
        packages = 0
        packaging_notes: list[etree._Element] = []
        for child in line:
            tag = child.tag
            if tag == T_SCIENTIFIC:
                has_name = has_name or bool(_text(child))
            elif tag in _LINE_MEASURES:
                has_quantity = has_quantity or bool(_text(child))
                # The certified quantity: in an unknown unit or one of the wrong kind, the
                # importer cannot check it against the consignment.
                self._unit(child, _LINE_MEASURES[tag], Level.SEVERE, out)
            elif tag == T_LINE_NOTE:
                subject, kind = self._subject(child.find(T_SUBJECT), _LINE, type_code, out)
                content = child.find(T_CONTENT)
                if kind and kind != "text":
                    self._value(
                        kind, subject, content if content is not None else child, type_code, out
                    )
                if subject == PACKAGING_NOTE:
                    packaging_notes.append(child)
                elif subject == _OTHER_QUANTITY:
                    has_quantity = has_quantity or bool(_text(content))
                elif subject.startswith("RPC"):
                    reexport = True
            elif tag == T_PACKAGE:
                packages += 1
                has_quantity = has_quantity or bool(_text(child.find(T_QUANTITY)))
                self._package(child, out)
            elif tag == T_ORIGIN:
                # Origin may be a region or an older code; the importer can still read it.
                self._country(child.find(T_ID), Level.WARNING, "origin country", out)
            elif tag == T_INTENDED_USE:
                self._intended_use(child, out)
            elif tag == T_CLASSIFICATION:
                self._classification(child, out)
            elif tag == T_PROCESS:
                self._treatment(child, type_code, out)
        if not has_name:
            out.missing(
                below(out.path(line), "ram:ScientificName"),
                "The botanical name of the commodity (ram:ScientificName) is missing or empty.",
            )
        if not has_quantity:
            out.missing(
                out.path(line),
                "The trade line has no quantity; expected a weight or volume measure "
                "(ram:NetWeightMeasure, ram:GrossWeightMeasure, ram:NetVolumeMeasure, "
                "ram:GrossVolumeMeasure), a package quantity (ram:PhysicalSPSPackage/"
                "ram:ItemQuantity) or an OQV note.",
            )
        self._packaging(line, packages, packaging_notes, out)
        return reexport

    def _packaging(
        self, line: etree._Element, packages: int, notes: list[etree._Element], out: _Findings
    ) -> None:
        if not packages and not notes:
            # "Number and description of packages" is a box of the ISPM 12 certificate; with
            # neither form the importer has no packaging to check the consignment against.
            out.add(
                Area.MAPPING,
                Level.SEVERE,
                out.path(line),
                "The trade line does not describe its packaging; expected either "
                "ram:PhysicalSPSPackage elements or one OPTND (free-text packaging) note.",
            )
        elif packages and notes:
            # Redundant rather than missing: the importer can still read both.
            out.mapping(
                Level.WARNING,
                notes[0],
                "The trade line gives its packaging both as ram:PhysicalSPSPackage and as an "
                "OPTND note; expected exactly one of the two.",
            )
        elif len(notes) > 1:
            out.mapping(
                Level.WARNING,
                notes[1],
                "The trade line has more than one OPTND (free-text packaging) note; expected one.",
            )

    def _unit(self, measure: etree._Element, kind: str, level: Level, out: _Findings) -> None:
        """Checks a measure's unitCode; ``kind`` is the unit type it needs (``""``: any)."""
        wanted = f"a {kind.lower()} unit" if kind else "a unit"
        unit = (measure.get("unitCode") or "").strip()
        if not unit:
            # Real senders omit it on weights (the hub's own 2022 example does).
            out.mapping(
                Level.WARNING,
                measure,
                f"The measure has no unitCode; expected {wanted} "
                "(UN/ECE Recommendation 20, e.g. KGM, MTQ, CEL, HUR).",
            )
            return
        units = self._t.units
        if not self._code(
            measure,
            unit,
            units,
            level,
            "unit (unitCode)",
            f"{wanted} from the hub's list (UN/ECE Recommendation 20)",
            out,
        ):
            return
        unit_kind = units.column(unit, "type")
        if kind and unit_kind and unit_kind != kind:
            out.mapping(
                level,
                measure,
                f"unitCode '{unit}' is a {unit_kind.lower()} unit; this measure needs a "
                f"{kind.lower()} unit.",
            )

    def _package(self, package: etree._Element, out: _Findings) -> None:
        # Rec 21 has hundreds of package types and national systems map their own to it; the
        # hub's list is a subset, so an unknown one is worth a warning, not a refusal.
        level_el = package.find(T_LEVEL)
        if level_el is not None:
            self._code(
                level_el,
                _text(level_el),
                self._t.package_levels,
                Level.WARNING,
                "package level",
                "a UN/ECE Recommendation 21 level (1-5)",
                out,
            )
        type_el = package.find(T_TYPE)
        if type_el is not None:
            self._code(
                type_el,
                _text(type_el),
                self._t.package_types,
                Level.WARNING,
                "package type",
                "a UN/ECE Recommendation 21 code from the hub's list (e.g. BG, BX, CT)",
                out,
            )

    def _intended_use(self, use: etree._Element, out: _Findings) -> None:
        # With a languageID the value is free text in that language; without one, a code.
        value = _text(use)
        if value and use.get("languageID") is None:
            self._code(
                use,
                value,
                self._t.intended_uses,
                Level.WARNING,
                "intended use code",
                "a code from the hub's list (GetIntendedUses), or free text marked with a "
                "languageID",
                out,
            )

    def _classification(self, classification: etree._Element, out: _Findings) -> None:
        system = _text(classification.find(T_SYSTEM))
        if system == "IPPCPCVP":
            codes, what = self._t.product_descriptions, "product description (IPPCPCVP)"
        elif system == "IPPCPCC":
            codes, what = self._t.conditions, "commodity condition (IPPCPCC)"
        else:
            return  # HS and national systems: no list to check against
        code_el = classification.find(T_CLASS_CODE)
        if code_el is not None:
            self._code(
                code_el,
                _text(code_el),
                codes,
                Level.WARNING,
                f"{what} code",
                "a code from the hub's list",
                out,
            )

    # --- AppliedSPSProcess -----------------------------------------------------------------------

    def _treatment(self, process: etree._Element, type_code: str, out: _Findings) -> None:
        # Every treatment finding is at most a warning: TTFT carries the whole treatment as text
        # for importers that cannot use the structured parts.
        level1 = ""
        has_free_text = False
        for child in process:
            tag = child.tag
            if tag == T_PERIOD:
                duration = child.find(T_DURATION)
                if duration is not None:
                    self._unit(duration, "DURATION", Level.WARNING, out)
            elif tag == T_CHARACTERISTIC:
                descriptions = list(child.iterchildren(T_DESCRIPTION))
                code_el = descriptions[0] if descriptions else None
                code, kind = self._subject(code_el, _TREATMENT, type_code, out)
                value_el = descriptions[1] if len(descriptions) > 1 else None
                if code == FREE_TEXT_TREATMENT:
                    has_free_text = True
                elif kind == "treatment_type" and value_el is not None:
                    level1 = self._treatment_type(value_el, code, level1, out)
                elif kind == "measure":
                    measure = child.find(T_VALUE)
                    if measure is not None:
                        self._unit(measure, CHARACTERISTIC_UNITS.get(code, ""), Level.WARNING, out)
                elif kind and kind != "text" and value_el is not None:
                    self._value(kind, code, value_el, type_code, out)
        if not has_free_text:
            out.add(
                Area.MAPPING,
                Level.INFO,
                out.path(process),
                "The treatment has no TTFT (free-text) characteristic; importers that cannot "
                "read structured treatments will not see it.",
            )

    def _treatment_type(
        self, value_el: etree._Element, code: str, level1: str, out: _Findings
    ) -> str:
        """Checks a TTL1/TTL2 value; returns the level-1 type seen so far in this treatment."""
        types = self._t.treatment_types
        value = _text(value_el)
        if not self._code(
            value_el,
            value,
            types,
            Level.WARNING,
            f"treatment type ({code})",
            "a code from the hub's list (GetTreatmentTypes)",
            out,
        ):
            return level1
        wanted = _TREATMENT_LEVELS.get(code, "")
        level = types.column(value, "level")
        parent = types.column(value, "parent_code")
        if wanted and level and level != wanted:
            out.mapping(
                Level.WARNING,
                value_el,
                f"Treatment type '{value}' is a level-{level} type; {code} needs a "
                f"level-{wanted} type.",
            )
        elif wanted == "2" and level1 and parent and parent != level1:
            out.mapping(
                Level.WARNING,
                value_el,
                f"Treatment type '{value}' belongs under '{parent}', not under the TTL1 type "
                f"'{level1}'.",
            )
        return value if wanted == "1" else level1
