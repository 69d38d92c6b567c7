"""A draft (what the forms collected) -> the typed certificate that `ephyto_core` builds as XML.

Coded values go in as codes (the importer's system translates them); free text goes in with the
certificate's language. Every treatment carries a TTFT free text, composed by `ephyto_core`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from ephyto_core._codelists import CodeLists
from ephyto_core.certificate import (
    REEXPORT_CERTIFICATE,
    STATUS_ISSUED,
    AppliedProcess,
    Attachment,
    Certificate,
    Classification,
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
    ReexportDetails,
    ReferencedDocument,
    Replacement,
    Signatory,
    Subdivision,
    Text,
    TradeLineItem,
    TransportEquipment,
    TransportMovement,
    additional_declaration,
    additional_official_information,
    distinguishing_marks,
    import_permit,
    inspection_date,
    line_additional_declaration,
    line_distinguishing_marks,
    mark_replacing,
    packaging_note,
    reexport_notes,
    statement,
    treatment,
)
from generic_national_system.certificates.draft import Draft, DraftLine
from generic_national_system.certificates.sections import MAX_DECLARATIONS, MAX_TRANSIT

#: Statement code for "this certificate replaces and cancels…" (statements list).
REPLACEMENT_STATEMENT = "4"
#: UN/CEFACT 1001 document code for an attached related document, as real senders use it.
ATTACHMENT_TYPE_CODE = "916"
#: Package level for a count of packages (Rec 21 level 3, "outer"): what the consignment shows.
PACKAGE_LEVEL = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentData:
    filename: str
    media_type: str
    description: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueContext:
    """Everything an issued certificate holds besides the draft."""

    number: str
    type_code: int
    issued_at: datetime
    issuer_name: str
    export_country: str
    officer_name: str
    attachments: Sequence[AttachmentData] = ()
    replaced_number: str | None = None
    replaced_issued_at: datetime | None = None


def build_certificate(draft: Draft, context: IssueContext, code_lists: CodeLists) -> Certificate:
    language = draft.value("declarations", "certificate_language") or "en"
    names = _Names(code_lists, language)
    cert = Certificate(
        document=_document(draft, context, language, names),
        consignment=_consignment(draft, context, language, names),
    )
    if context.replaced_number is not None:
        reason = draft.value("declarations", "replacement_reason")
        cert = mark_replacing(
            cert,
            Replacement(
                replaced_number=context.replaced_number,
                replaced_date=context.replaced_issued_at,
                reason=Text(value=reason, language=language) if reason else None,
                statement=REPLACEMENT_STATEMENT,
            ),
        )
    return cert


class _Names:
    def __init__(self, code_lists: CodeLists, language: str) -> None:
        self.lists = code_lists
        self.language = language

    def text(self, list_name: str, code: str) -> str | None:
        return self.lists[list_name].text(code, self.language)


def _lines_of(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _document(
    draft: Draft, context: IssueContext, language: str, names: _Names
) -> ExchangedDocument:
    values = draft.section("declarations")
    notes: list[Note] = [statement(values.get("statement_code", ""))]
    for i in range(1, MAX_DECLARATIONS + 1):
        code = values.get(f"ad_{i}", "")
        if code:
            notes.append(
                additional_declaration(
                    _declaration_text(names, code, values.get(f"ad_{i}_text", "")),
                    language=language,
                )
            )
    if values.get("additional_declaration"):
        notes.append(additional_declaration(values["additional_declaration"], language=language))
    if values.get("import_permit"):
        notes.append(import_permit(values["import_permit"]))
    if values.get("inspection_date"):
        notes.append(inspection_date(values["inspection_date"]))
    if values.get("distinguishing_marks"):
        notes.append(distinguishing_marks(values["distinguishing_marks"]))
    if values.get("additional_information"):
        notes.append(
            additional_official_information(values["additional_information"], language=language)
        )
    return ExchangedDocument(
        certificate_number=context.number,
        type_code=context.type_code,
        status_code=STATUS_ISSUED,
        name=names.text("certificate_types", str(context.type_code)),
        issue_datetime=context.issued_at,
        issuer_name=context.issuer_name,
        notes=tuple(notes),
        referenced_documents=tuple(
            ReferencedDocument(
                type_code=ATTACHMENT_TYPE_CODE,
                id=f"{context.number}-A{i}",
                issue_datetime=context.issued_at,
                attachment=Attachment(filename=item.filename, content=item.content),
                information=Text(value=item.description, language=language),
            )
            for i, item in enumerate(context.attachments, start=1)
        ),
        signatory=Signatory(
            actual_datetime=context.issued_at,
            place_name=values.get("place_of_issue") or None,
            provider_name=context.issuer_name,
            person_name=context.officer_name,
        ),
    )


def _declaration_text(names: _Names, code: str, completion: str) -> str:
    """The declaration's text with its blank (…) filled in, or the completion appended."""
    template = names.text("additional_declarations", code) or code
    if not completion:
        return template
    if "…" in template:
        return template.replace("…", completion, 1)
    return f"{template} {completion}"


def _country(code: str, names: _Names) -> Country:
    return Country(id=code, name=names.text("countries", code))


def _consignment(draft: Draft, context: IssueContext, language: str, names: _Names) -> Consignment:
    parties, route = draft.section("parties"), draft.section("route")
    transits = [route.get(f"transit_{i}", "") for i in range(1, MAX_TRANSIT + 1)]
    entry_code, entry_name = route.get("point_of_entry_code"), route.get("point_of_entry_name")
    mode = route.get("transport_mode")
    container, seal = route.get("container_id"), route.get("seal_id")
    reexport = (
        _reexport(draft.section("reexport"), draft.value("declarations", "statement_code"))
        if context.type_code == REEXPORT_CERTIFICATE
        else ()
    )
    return Consignment(
        consignor=Party(
            name=parties.get("consignor_name"),
            address_lines=_lines_of(parties.get("consignor_address", "")),
        ),
        consignee=Party(
            name=parties.get("consignee_name"),
            address_lines=_lines_of(parties.get("consignee_address", "")),
        ),
        export_country=_country(context.export_country, names),
        import_country=_country(route.get("import_country", ""), names),
        transit_countries=tuple(_country(code, names) for code in transits if code),
        unloading_baseport=(
            Location(id=entry_code or None, name=entry_name or None)
            if entry_code or entry_name
            else None
        ),
        examination_location_name=route.get("place_of_inspection") or None,
        transport_movements=(
            (
                TransportMovement(
                    mode_code=int(mode),
                    id=route.get("conveyance_id") or None,
                    means_name=route.get("conveyance_name") or None,
                ),
            )
            if mode
            else ()
        ),
        transport_equipment=(
            TransportEquipment(id=container or None, seal_id=seal or None)
            if container or seal
            else None
        ),
        trade_line_items=tuple(
            _trade_line(line, sequence, language, names, reexport)
            for sequence, line in enumerate(draft.lines, start=1)
        ),
    )


def _reexport(values: dict[str, str], statement_code: str) -> tuple[LineNote, ...]:
    flags = {
        name: values.get(name) == "true"
        for name in (
            "original_attached",
            "certified_copy_attached",
            "packed",
            "repacked",
            "original_containers",
            "new_containers",
            "based_on_original_certificate",
            "additional_inspection",
        )
    }
    return reexport_notes(
        ReexportDetails(
            origin_country_id=values.get("origin_country", ""),
            original_certificate_number=values.get("original_certificate_number", ""),
            statement=statement_code or None,
            **flags,
        )
    )


def _measure(value: str, unit: str) -> Measure | None:
    return Measure(value=Decimal(value), unit_code=unit or None) if value else None


def _trade_line(
    line: DraftLine,
    sequence: int,
    language: str,
    names: _Names,
    extra_notes: tuple[LineNote, ...],
) -> TradeLineItem:
    v = line.values

    def text(name: str) -> tuple[Text, ...]:
        return (Text(value=v[name], language=language),) if v.get(name) else ()

    notes: list[LineNote] = []
    if v.get("packaging_text"):
        notes.append(packaging_note(Text(value=v["packaging_text"], language=language)))
    if v.get("line_marks"):
        notes.append(line_distinguishing_marks(v["line_marks"]))
    if v.get("line_declaration"):
        notes.append(line_additional_declaration(v["line_declaration"], language=language))
    notes.extend(extra_notes)
    classifications = []
    if v.get("hs_code"):
        classifications.append(Classification(system_name="HS", class_code=v["hs_code"]))
    for system, field, list_name in (
        ("IPPCPCVP", "product_description", "product_descriptions"),
        ("IPPCPCC", "condition", "conditions"),
    ):
        if v.get(field):
            label = names.text(list_name, v[field])
            classifications.append(
                Classification(
                    system_name=system,
                    class_code=v[field],
                    class_names=(Text(value=label, language=language),) if label else (),
                )
            )
    uses: tuple[Text, ...] = ()
    if v.get("intended_use"):
        # The code for systems, its text for people.
        label = names.text("intended_uses", v["intended_use"])
        uses = (Text(value=v["intended_use"]),) + (
            (Text(value=label, language=language),) if label else ()
        )
    origin = v.get("origin_country")
    return TradeLineItem(
        sequence=sequence,
        descriptions=text("description"),
        common_names=text("common_name"),
        scientific_names=(Text(value=v["botanical_name"]),) if v.get("botanical_name") else (),
        intended_uses=uses,
        net_weight=_measure(v.get("net_weight", ""), v.get("weight_unit", "")),
        gross_weight=_measure(v.get("gross_weight", ""), v.get("weight_unit", "")),
        net_volume=_measure(v.get("net_volume", ""), v.get("volume_unit", "")),
        additional_notes=tuple(notes),
        classifications=tuple(classifications),
        packages=(
            (
                Package(
                    level=PACKAGE_LEVEL,
                    type_code=v["package_type"],
                    quantity=Decimal(v["package_quantity"]),
                ),
            )
            if v.get("package_quantity")
            else ()
        ),
        origin_countries=(
            (
                OriginCountry(
                    id=origin,
                    name=names.text("countries", origin),
                    subdivision=(
                        Subdivision(name=v["origin_region"]) if v.get("origin_region") else None
                    ),
                ),
            )
            if origin
            else ()
        ),
        treatments=tuple(_treatment(t, language, names) for t in line.treatments),
    )


def _day(value: str) -> datetime | None:
    return datetime.combine(datetime.fromisoformat(value).date(), time(), UTC) if value else None


def _treatment(v: dict[str, str], language: str, names: _Names) -> AppliedProcess:
    code = v["treatment_type"]
    types = names.lists.treatment_types
    row = types.get(code, "en")
    parent = row.extra.get("parent_code", "") if row is not None else ""
    level1, level2 = (parent, code) if parent else (code, None)
    info = (
        (Text(value=v["additional_information"], language=language),)
        if v.get("additional_information")
        else ()
    )
    return treatment(
        level1=level1,
        level2=level2,
        chemicals=(v["chemical"],) if v.get("chemical") else (),
        temperature=_measure(v.get("temperature", ""), v.get("temperature_unit", "")),
        concentration=_measure(v.get("concentration", ""), v.get("concentration_unit", "")),
        duration=_measure(v.get("duration", ""), v.get("duration_unit", "")),
        start=_day(v.get("start_date", "")),
        end=_day(v.get("end_date", "")),
        additional_information=info,
    )
