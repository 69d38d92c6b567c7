"""The certificate's forms: which fields each section has, and the checks across fields.

The certificate is entered in small pages (parties, route, declarations, re-export, one page per
trade line and per treatment) so that each page is light on a slow connection and short on a
phone, and each carries only the code lists it needs.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from generic_national_system.certificates.draft import Draft
from generic_national_system.i18n import N_
from generic_national_system.web.forms import FieldSpec, FormResult, Kind, Message, Msgid

REEXPORT: Final = 657
MAX_ADDRESS_LINES: Final = 5
MAX_TRANSIT: Final = 3
MAX_DECLARATIONS: Final = 3
#: More lines than this is a second certificate: it keeps the XML and the pages small.
MAX_LINES: Final = 50
MAX_TREATMENTS: Final = 5

_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
_HS = re.compile(r"[0-9]{4,10}")


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    title: str
    fields: tuple[FieldSpec, ...]


def _address(name: str, label: str) -> FieldSpec:
    return FieldSpec(
        name=name,
        label=label,
        kind=Kind.TEXTAREA,
        max_length=400,
        hint=N_("Up to five lines."),
    )


PARTIES = Section(
    "parties",
    N_("Exporter and consignee"),
    (
        FieldSpec(
            name="consignor_name",
            label=N_("Name of the exporter (consignor)"),
            required=True,
            autocomplete="organization",
        ),
        _address("consignor_address", N_("Address of the exporter")),
        FieldSpec(name="consignee_name", label=N_("Name of the consignee"), required=True),
        _address("consignee_address", N_("Address of the consignee")),
    ),
)

ROUTE = Section(
    "route",
    N_("Countries and transport"),
    (
        FieldSpec(
            name="import_country",
            label=N_("Importing country"),
            kind=Kind.SELECT,
            choices="countries",
            required=True,
        ),
        *(
            FieldSpec(
                name=f"transit_{i}",
                label=N_("Country of transit"),
                kind=Kind.DATALIST,
                choices="countries",
                upper=True,
                max_length=2,
                hint=N_("Two-letter country code; suggestions appear as you type."),
            )
            for i in range(1, MAX_TRANSIT + 1)
        ),
        FieldSpec(
            name="point_of_entry_code",
            label=N_("Declared point of entry (UN/LOCODE)"),
            upper=True,
            max_length=5,
            pattern=_LOCODE,
            pattern_message=N_("Enter a five-character UN/LOCODE, such as NLRTM."),
        ),
        FieldSpec(name="point_of_entry_name", label=N_("Name of the point of entry")),
        FieldSpec(
            name="transport_mode",
            label=N_("Means of conveyance"),
            kind=Kind.SELECT,
            choices="transport_modes",
            required=True,
        ),
        FieldSpec(name="conveyance_name", label=N_("Vessel, flight or vehicle")),
        FieldSpec(name="conveyance_id", label=N_("Voyage or flight number"), max_length=35),
        FieldSpec(name="container_id", label=N_("Container number"), max_length=35),
        FieldSpec(name="seal_id", label=N_("Seal number"), max_length=35),
        FieldSpec(name="place_of_inspection", label=N_("Place of inspection")),
    ),
)


def declarations_section(type_code: int, *, replacing: bool) -> Section:
    fields: list[FieldSpec] = [
        FieldSpec(
            name="certificate_language",
            label=N_("Language of the certificate"),
            kind=Kind.SELECT,
            choices="languages",
            required=True,
            default="en",
        ),
        FieldSpec(
            name="statement_code",
            label=N_("Certifying statement"),
            kind=Kind.SELECT,
            choices=f"statements:{type_code}",
            required=True,
            default="3" if type_code == REEXPORT else "1",
        ),
    ]
    for i in range(1, MAX_DECLARATIONS + 1):
        fields.append(
            FieldSpec(
                name=f"ad_{i}",
                label=N_("Additional declaration"),
                kind=Kind.SELECT,
                choices="additional_declarations",
            )
        )
        fields.append(
            FieldSpec(
                name=f"ad_{i}_text",
                label=N_("Completes the declaration (the … part)"),
                hint=N_("For example the scientific names of the pests."),
            )
        )
    fields.extend(
        (
            FieldSpec(
                name="additional_declaration",
                label=N_("Other additional declaration"),
                kind=Kind.TEXTAREA,
                max_length=2000,
            ),
            FieldSpec(
                name="distinguishing_marks",
                label=N_("Distinguishing marks"),
                kind=Kind.TEXTAREA,
                max_length=1000,
            ),
            FieldSpec(name="import_permit", label=N_("Import permit number"), max_length=100),
            FieldSpec(name="inspection_date", label=N_("Date of inspection"), kind=Kind.DATE),
            FieldSpec(
                name="additional_information",
                label=N_("Additional official information"),
                kind=Kind.TEXTAREA,
                max_length=2000,
            ),
            FieldSpec(name="place_of_issue", label=N_("Place of issue"), required=True),
        )
    )
    if replacing:
        fields.append(
            FieldSpec(
                name="replacement_reason",
                label=N_("Why the earlier certificate is replaced"),
                kind=Kind.TEXTAREA,
                required=True,
                max_length=1000,
            )
        )
    return Section("declarations", N_("Declarations"), tuple(fields))


REEXPORT_FLAGS: Final = (
    ("original_attached", N_("The original certificate is attached")),
    ("certified_copy_attached", N_("A certified true copy is attached")),
    ("packed", N_("Packed")),
    ("repacked", N_("Repacked")),
    ("original_containers", N_("In original containers")),
    ("new_containers", N_("In new containers")),
    ("based_on_original_certificate", N_("Based on the original certificate")),
    ("additional_inspection", N_("Additionally inspected")),
)

REEXPORT_SECTION = Section(
    "reexport",
    N_("Re-export"),
    (
        FieldSpec(
            name="origin_country",
            label=N_("Country of origin"),
            kind=Kind.SELECT,
            choices="countries",
            required=True,
        ),
        FieldSpec(
            name="original_certificate_number",
            label=N_("Number of the original phytosanitary certificate"),
            required=True,
            max_length=40,
        ),
        *(FieldSpec(name=name, label=label, kind=Kind.CHECKBOX) for name, label in REEXPORT_FLAGS),
    ),
)


def sections_for(type_code: int, *, replacing: bool) -> tuple[Section, ...]:
    sections = [PARTIES, ROUTE, declarations_section(type_code, replacing=replacing)]
    if type_code == REEXPORT:
        sections.append(REEXPORT_SECTION)
    return tuple(sections)


LINE_FIELDS: Final = (
    FieldSpec(
        name="description",
        label=N_("Description of the commodity"),
        required=True,
        hint=N_("For example: fresh avocados."),
    ),
    FieldSpec(name="common_name", label=N_("Common name")),
    FieldSpec(
        name="botanical_name",
        label=N_("Botanical name"),
        required=True,
        hint=N_("Scientific name, for example Persea americana."),
    ),
    FieldSpec(
        name="product_description",
        label=N_("Type of product"),
        kind=Kind.SELECT,
        choices="product_descriptions",
    ),
    FieldSpec(name="condition", label=N_("Condition"), kind=Kind.SELECT, choices="conditions"),
    FieldSpec(
        name="intended_use", label=N_("Intended use"), kind=Kind.SELECT, choices="intended_uses"
    ),
    FieldSpec(
        name="hs_code",
        label=N_("HS code"),
        max_length=10,
        pattern=_HS,
        pattern_message=N_("Enter 4 to 10 digits, such as 080440."),
    ),
    FieldSpec(name="net_weight", label=N_("Net weight"), kind=Kind.DECIMAL, max_length=20),
    FieldSpec(name="gross_weight", label=N_("Gross weight"), kind=Kind.DECIMAL, max_length=20),
    FieldSpec(
        name="weight_unit",
        label=N_("Weight unit"),
        kind=Kind.SELECT,
        choices="units:WEIGHT",
        default="KGM",
    ),
    FieldSpec(name="net_volume", label=N_("Volume"), kind=Kind.DECIMAL, max_length=20),
    FieldSpec(
        name="volume_unit",
        label=N_("Volume unit"),
        kind=Kind.SELECT,
        choices="units:VOLUME",
        default="MTQ",
    ),
    FieldSpec(
        name="origin_country",
        label=N_("Place of origin (country)"),
        kind=Kind.DATALIST,
        choices="countries",
        upper=True,
        max_length=2,
    ),
    FieldSpec(name="origin_region", label=N_("Region of origin")),
    FieldSpec(
        name="package_quantity", label=N_("Number of packages"), kind=Kind.INTEGER, max_length=9
    ),
    FieldSpec(
        name="package_type",
        label=N_("Type of package"),
        kind=Kind.SELECT,
        choices="package_types",
    ),
    FieldSpec(
        name="packaging_text",
        label=N_("Or: packages described in words"),
        kind=Kind.TEXTAREA,
        max_length=500,
        hint=N_("Only when the packages cannot be given as a number and a type."),
    ),
    FieldSpec(name="line_marks", label=N_("Distinguishing marks of this commodity")),
    FieldSpec(
        name="line_declaration",
        label=N_("Additional declaration for this commodity"),
        kind=Kind.TEXTAREA,
        max_length=1000,
    ),
)

TREATMENT_FIELDS: Final = (
    FieldSpec(
        name="treatment_type",
        label=N_("Treatment"),
        kind=Kind.SELECT,
        choices="treatment_types",
        required=True,
    ),
    FieldSpec(
        name="chemical",
        label=N_("Chemical (active ingredient)"),
        kind=Kind.SELECT,
        choices="pesticides",
    ),
    FieldSpec(name="concentration", label=N_("Concentration"), kind=Kind.DECIMAL, max_length=20),
    FieldSpec(
        name="concentration_unit",
        label=N_("Concentration unit"),
        kind=Kind.SELECT,
        choices="units:CONCENTRATION",
    ),
    FieldSpec(
        name="temperature",
        label=N_("Temperature"),
        kind=Kind.DECIMAL,
        signed=True,
        max_length=20,
    ),
    FieldSpec(
        name="temperature_unit",
        label=N_("Temperature unit"),
        kind=Kind.SELECT,
        choices="units:TEMPERATURE",
        default="CEL",
    ),
    FieldSpec(name="duration", label=N_("Duration"), kind=Kind.DECIMAL, max_length=20),
    FieldSpec(
        name="duration_unit",
        label=N_("Duration unit"),
        kind=Kind.SELECT,
        choices="units:DURATION",
        default="HUR",
    ),
    FieldSpec(name="start_date", label=N_("Start date"), kind=Kind.DATE),
    FieldSpec(name="end_date", label=N_("End date"), kind=Kind.DATE),
    FieldSpec(
        name="additional_information",
        label=N_("Additional information"),
        kind=Kind.TEXTAREA,
        max_length=1000,
    ),
)


# ----------------------------------------------------------------------------- cross-field checks


def check_section(section: str, result: FormResult, *, export_country: str) -> None:
    """Rules that need more than one field, or the tenant; adds errors at the field concerned."""
    values = result.values
    if section == "parties":
        for name in ("consignor_address", "consignee_address"):
            if len(values[name].splitlines()) > MAX_ADDRESS_LINES:
                result.add_error(name, N_("Use at most %(max)s lines."), max=MAX_ADDRESS_LINES)
    elif section == "route":
        if values["import_country"] and values["import_country"] == export_country:
            result.add_error(
                "import_country", N_("The importing country cannot be your own country.")
            )
    elif section == "declarations":
        for i in range(1, MAX_DECLARATIONS + 1):
            if values[f"ad_{i}_text"] and not values[f"ad_{i}"]:
                result.add_error(f"ad_{i}", N_("Choose the declaration that this text completes."))


def check_line(result: FormResult) -> None:
    values = result.values
    quantities = ("net_weight", "gross_weight", "net_volume", "package_quantity")
    if not any(values[name] for name in quantities) and not any(
        name in result.errors for name in quantities
    ):
        result.add_error(
            "net_weight",
            N_("Give at least one quantity: a weight, a volume or a number of packages."),
        )
    if (values["net_weight"] or values["gross_weight"]) and not values["weight_unit"]:
        result.add_error("weight_unit", N_("Choose the unit of the weight."))
    if values["net_volume"] and not values["volume_unit"]:
        result.add_error("volume_unit", N_("Choose the unit of the volume."))
    structured = bool(values["package_quantity"] or values["package_type"])
    if structured and values["packaging_text"]:
        result.add_error(
            "packaging_text",
            N_("Describe the packages either as a number and a type, or in words, not both."),
        )
    elif structured and not (values["package_quantity"] and values["package_type"]):
        missing = "package_type" if values["package_quantity"] else "package_quantity"
        result.add_error(missing, N_("Give both the number and the type of packages."))
    elif not structured and not values["packaging_text"]:
        result.add_error(
            "package_quantity",
            N_("Describe the packages: a number and a type, or in words below."),
        )


def check_treatment(result: FormResult) -> None:
    values = result.values
    for amount, unit in (
        ("concentration", "concentration_unit"),
        ("temperature", "temperature_unit"),
        ("duration", "duration_unit"),
    ):
        if values[amount] and not values[unit]:
            result.add_error(unit, N_("Choose the unit."))
    start, end = values["start_date"], values["end_date"]
    dates_ok = "start_date" not in result.errors and "end_date" not in result.errors
    if start and end and dates_ok and date.fromisoformat(end) < date.fromisoformat(start):
        result.add_error("end_date", N_("The end date cannot be before the start date."))


# ----------------------------------------------------------------------------- completeness


@dataclass(frozen=True, slots=True)
class Missing:
    """A part the certificate still needs, and the page where it is entered."""

    message: Message
    section: str | None = None
    line: int | None = None


def missing_parts(draft: Draft, sections: Sequence[Section]) -> list[Missing]:
    """What must still be entered before the certificate can be submitted."""
    found: list[Missing] = []
    for section in sections:
        values = draft.section(section.name)
        absent = [spec for spec in section.fields if spec.required and not values.get(spec.name)]
        if absent:
            found.append(
                Missing(
                    Message(
                        N_("Complete the section “%(section)s”."), {"section": Msgid(section.title)}
                    ),
                    section=section.name,
                )
            )
    if not draft.lines:
        found.append(Missing(Message(N_("Add at least one commodity."))))
    return found
