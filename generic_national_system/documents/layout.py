"""A certificate laid out like the ISPM 12 model phytosanitary certificate, as numbered boxes.

One layout for the screen and the PDF, for sent and received certificates alike: the pages and
`documents.pdf` only draw the boxes. Box labels are msgids (translated where they are drawn);
coded values are shown in the reader's language from the harmonised code lists, with the code
beside them, because the reader checks the code against the paper trail.

ISPM 12's model certificate has no numbers on its fields; we number them in its order (1 exporter
… 9 botanical name, 10 certifying statement, 11 additional declaration, 12 treatment, 13 place and
date of issue, 14 authorised officer) so that a phone call can say "box 8".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ephyto_core._codelists import CodeLists
from ephyto_core.certificate import (
    REEXPORT_CERTIFICATE,
    AppliedProcess,
    Certificate,
    DocumentNoteSubject,
    LineNoteSubject,
    Measure,
    Text,
    TradeLineItem,
    TreatmentCharacteristic,
    characteristics_with,
    free_text_of,
    notes_about,
    reexport_details,
    replacement_of,
)
from generic_national_system.i18n import N_


@dataclass(frozen=True, slots=True)
class Box:
    number: int
    #: A msgid, translated where the box is drawn.
    label: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PaperCertificate:
    number: str
    type_code: int
    #: A msgid: "Phytosanitary certificate" or "Phytosanitary certificate for re-export".
    title: str
    issuer: str
    export_country: str
    import_country: str
    status_code: int
    boxes: tuple[Box, ...]
    #: Names of the documents attached to the electronic certificate.
    attachments: tuple[str, ...]
    #: The number of the certificate this one replaces, if any.
    replaces: str | None


TITLE_EXPORT = N_("Phytosanitary certificate")
TITLE_REEXPORT = N_("Phytosanitary certificate for re-export")

BOX_LABELS = (
    N_("Name and address of exporter"),
    N_("Declared name and address of consignee"),
    N_("Number and description of packages"),
    N_("Distinguishing marks"),
    N_("Place of origin"),
    N_("Declared means of conveyance"),
    N_("Declared point of entry"),
    N_("Name of produce and quantity declared"),
    N_("Botanical name of plants"),
    N_("Certifying statement"),
    N_("Additional declaration"),
    N_("Disinfestation and/or disinfection treatment"),
    N_("Place and date of issue"),
    N_("Name of authorised officer"),
)


class _Names:
    def __init__(self, code_lists: CodeLists, language: str) -> None:
        self._lists = code_lists
        self._language = language

    def text(self, list_name: str, code: str | None) -> str:
        if not code:
            return ""
        return self._lists[list_name].text(code, self._language) or code

    def coded(self, list_name: str, code: str | None) -> str:
        """'Name (CODE)', or the code alone when the list does not know it."""
        if not code:
            return ""
        name = self._lists[list_name].text(code, self._language)
        return f"{name} ({code})" if name and name != code else code

    def unit(self, measure: Measure | None) -> str:
        if measure is None:
            return ""
        value = _number(measure.value)
        if not measure.unit_code:
            return value
        row = self._lists["units"].get(measure.unit_code, "en")
        symbol = row.extra.get("symbol") if row is not None else None
        return f"{value} {symbol or measure.unit_code}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _text_in(texts: Iterable[Text], language: str) -> str:
    """The text in `language`, else the first one."""
    found = list(texts)
    for text in found:
        if text.language == language:
            return text.value
    return found[0].value if found else ""


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment is not None else ""


def lay_out(cert: Certificate, code_lists: CodeLists, language: str) -> PaperCertificate:
    """The certificate's boxes in `language` (code-list texts; free text as written)."""
    names = _Names(code_lists, language)
    document, consignment = cert.document, cert.consignment
    lines = consignment.trade_line_items
    boxes = (
        _party(consignment.consignor),
        _party(consignment.consignee),
        [_packages(line, names, language) for line in lines],
        _marks(cert, names),
        [_origin(line, names) for line in lines],
        _conveyance(cert, names),
        [
            " ".join(
                part
                for part in (
                    consignment.unloading_baseport.name if consignment.unloading_baseport else "",
                    f"({consignment.unloading_baseport.id})"
                    if consignment.unloading_baseport and consignment.unloading_baseport.id
                    else "",
                )
                if part
            )
        ],
        [_produce(line, names, language) for line in lines],
        [_text_in(line.scientific_names, language) for line in lines],
        _statements(cert, names, language),
        _declarations(cert, language),
        [text for line in lines for text in _treatments(line, names, language)],
        [
            ", ".join(
                part
                for part in (
                    document.signatory.place_name if document.signatory else None,
                    _date(document.issue_datetime),
                )
                if part
            )
        ],
        [
            part
            for part in (
                document.signatory.person_name if document.signatory else None,
                document.signatory.provider_name if document.signatory else None,
            )
            if part
        ],
    )
    replacement = replacement_of(cert)
    return PaperCertificate(
        number=document.certificate_number,
        type_code=document.type_code,
        title=TITLE_REEXPORT if document.type_code == REEXPORT_CERTIFICATE else TITLE_EXPORT,
        issuer=document.issuer_name or "",
        export_country=names.coded(
            "countries", consignment.export_country.id if consignment.export_country else None
        ),
        import_country=names.coded(
            "countries", consignment.import_country.id if consignment.import_country else None
        ),
        status_code=document.status_code,
        boxes=tuple(
            Box(number, label, tuple(line for line in content if line))
            for number, (label, content) in enumerate(zip(BOX_LABELS, boxes, strict=True), 1)
        ),
        attachments=tuple(
            (ref.attachment.filename if ref.attachment and ref.attachment.filename else None)
            or (ref.information.value if ref.information else None)
            or (ref.id or "")
            for ref in document.referenced_documents
        ),
        replaces=replacement.replaced_number if replacement is not None else None,
    )


def _party(party: object) -> list[str]:
    name = getattr(party, "name", None)
    return [name or "", *getattr(party, "address_lines", ())]


def _line_notes(line: TradeLineItem, subject: str, language: str) -> list[str]:
    return [
        _text_in(note.contents, language)
        for note in line.additional_notes
        if note.subject == subject
    ]


def _packages(line: TradeLineItem, names: _Names, language: str) -> str:
    described = [
        f"{_number(package.quantity)} × {names.coded('package_types', package.type_code)}"
        for package in line.packages
    ]
    described.extend(_line_notes(line, LineNoteSubject.PACKAGING_FREE_TEXT, language))
    return f"{line.sequence}. " + "; ".join(described) if described else ""


def _marks(cert: Certificate, names: _Names) -> list[str]:
    marks = [note.content.value for note in notes_about(cert.document.notes, "DMCL")]
    for line in cert.consignment.trade_line_items:
        marks.extend(
            f"{line.sequence}. {text}"
            for text in _line_notes(line, LineNoteSubject.DISTINGUISHING_MARKS, "")
        )
    equipment = cert.consignment.transport_equipment
    if equipment is not None and equipment.id:
        marks.append(equipment.id + (f" / {equipment.seal_id}" if equipment.seal_id else ""))
    return marks


def _origin(line: TradeLineItem, names: _Names) -> str:
    places = [
        names.coded("countries", origin.id)
        + (
            f", {origin.subdivision.name}"
            if origin.subdivision is not None and origin.subdivision.name
            else ""
        )
        for origin in line.origin_countries
    ]
    return f"{line.sequence}. " + "; ".join(places) if places else ""


def _conveyance(cert: Certificate, names: _Names) -> list[str]:
    found = [
        " ".join(
            part
            for part in (
                names.text("transport_modes", str(movement.mode_code)),
                movement.means_name or "",
                movement.id or "",
            )
            if part
        )
        for movement in cert.consignment.transport_movements
    ]
    transit = [
        names.text("countries", country.id) for country in cert.consignment.transit_countries
    ]
    if transit:
        found.append("↦ " + ", ".join(transit))
    return found


def _produce(line: TradeLineItem, names: _Names, language: str) -> str:
    what = ", ".join(
        part
        for part in (_text_in(line.descriptions, language), _text_in(line.common_names, language))
        if part
    )
    quantities = [
        names.unit(measure)
        for measure in (line.net_weight, line.gross_weight, line.net_volume, line.gross_volume)
        if measure is not None
    ]
    return f"{line.sequence}. {what}" + (f" — {' / '.join(quantities)}" if quantities else "")


def _statements(cert: Certificate, names: _Names, language: str) -> list[str]:
    texts = [
        names.text("statements", note.content.value)
        for note in notes_about(cert.document.notes, DocumentNoteSubject.STATEMENT)
    ]
    replacement = replacement_of(cert)
    if replacement is not None and replacement.replaced_number:
        texts.append(f"⟲ {replacement.replaced_number}")
    for line in cert.consignment.trade_line_items[:1]:
        details = reexport_details(line)
        if details is not None:
            texts.append(
                f"{names.coded('countries', details.origin_country_id)} — "
                f"{details.original_certificate_number}"
            )
    return texts


def _declarations(cert: Certificate, language: str) -> list[str]:
    notes = cert.document.notes
    declarations = notes_about(notes, DocumentNoteSubject.ADDITIONAL_DECLARATION)
    # A multilingual declaration is one note per language: show the reader's, if there is one.
    if any(note.content.language == language for note in declarations):
        declarations = tuple(n for n in declarations if n.content.language in (None, language))
    found = [note.content.value for note in declarations]
    for subject in (
        DocumentNoteSubject.IMPORT_PERMIT,
        DocumentNoteSubject.INSPECTION_DATE,
        DocumentNoteSubject.ADDITIONAL_OFFICIAL_INFORMATION,
    ):
        found.extend(note.content.value for note in notes_about(notes, subject))
    for line in cert.consignment.trade_line_items:
        found.extend(
            f"{line.sequence}. {text}"
            for text in _line_notes(line, LineNoteSubject.ADDITIONAL_DECLARATION, language)
        )
    return found


def _treatments(line: TradeLineItem, names: _Names, language: str) -> list[str]:
    return [_treatment(line.sequence, process, names, language) for process in line.treatments]


def _treatment(sequence: int, process: AppliedProcess, names: _Names, language: str) -> str:
    def coded(code: str, list_name: str) -> list[str]:
        return [
            names.text(list_name, text.value)
            for c in characteristics_with(process, code)
            for text in c.descriptions[:1]
        ]

    def measured(code: str) -> list[str]:
        return [names.unit(c.value) for c in characteristics_with(process, code) if c.value]

    level2 = coded(TreatmentCharacteristic.TYPE_LEVEL_2, "treatment_types")
    level1 = coded(TreatmentCharacteristic.TYPE_LEVEL_1, "treatment_types")
    parts = [
        ", ".join(level2 or level1),
        ", ".join(coded(TreatmentCharacteristic.CHEMICAL, "pesticides")),
        " ".join(measured(TreatmentCharacteristic.TEMPERATURE)),
        " ".join(measured(TreatmentCharacteristic.CONCENTRATION)),
        names.unit(process.duration),
        "–".join(part for part in (_date(process.start), _date(process.end)) if part),
    ]
    structured = "; ".join(part for part in parts if part)
    if structured:
        return f"{sequence}. {structured}"
    return f"{sequence}. {_text_in(free_text_of(process), language)}"
