"""Certificate factories: plain functions with keyword-only overrides, deterministic per ``seed``.

Used by the tests and by the benchmark to produce corpora. The data are realistic (ISO 3166
countries, UN/LOCODE ports, Rec 19 modes, Rec 20 units, Rec 21 package types, HS codes, botanical
names) and every coded value (statements, treatment types, pesticides, product descriptions,
conditions, package types, units) is one the bundled code lists in ``schemas/codelists`` know,
so the hub's validator finds nothing to report on them.

Sizes of the built XML (checked by ``test_certificate_roundtrip``): :func:`make_small` ~5 KB,
:func:`make_typical` ~40 KB, :func:`make_large` ~400 KB.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Final, NamedTuple

from ephyto_core.certificate import (
    EXPORT_CERTIFICATE,
    REEXPORT_CERTIFICATE,
    STATUS_ISSUED,
    AppliedProcess,
    Attachment,
    Certificate,
    Classification,
    Clause,
    Code,
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
    distinguishing_marks,
    import_permit,
    line_additional_declaration,
    line_distinguishing_marks,
    mark_replacing,
    other_quantity,
    packaging_note,
    reexport_notes,
    statement,
    treatment,
    withdrawal_of,
)

Languages = tuple[str, ...]


class _CountryInfo(NamedTuple):
    name: str
    utc_offset_hours: int
    nppo: str
    city: str
    port: tuple[str, str]  # UN/LOCODE, name
    region: str


COUNTRIES: Final[dict[str, _CountryInfo]] = {
    "KE": _CountryInfo(
        "Kenya", 3, "Kenya Plant Health Inspectorate Service", "Nairobi",
        ("KEMBA", "Mombasa"), "Nakuru County",
    ),
    "NL": _CountryInfo(
        "Netherlands", 1, "Netherlands Food and Consumer Product Safety Authority", "Utrecht",
        ("NLRTM", "Rotterdam"), "Zuid-Holland",
    ),
    "AR": _CountryInfo(
        "Argentina", -3, "Servicio Nacional de Sanidad y Calidad Agroalimentaria", "Buenos Aires",
        ("ARBUE", "Buenos Aires"), "Río Negro",
    ),
    "CL": _CountryInfo(
        "Chile", -4, "Servicio Agrícola y Ganadero", "Santiago",
        ("CLVAP", "Valparaíso"), "Región de O'Higgins",
    ),
    "NZ": _CountryInfo(
        "New Zealand", 12, "Ministry for Primary Industries", "Wellington",
        ("NZAKL", "Auckland"), "Hawke's Bay",
    ),
    "US": _CountryInfo(
        "United States of America", -5, "USDA APHIS Plant Protection and Quarantine",
        "Riverdale", ("USLAX", "Los Angeles"), "Washington",
    ),
    "ZA": _CountryInfo(
        "South Africa", 2, "Department of Agriculture, Land Reform and Rural Development",
        "Pretoria", ("ZADUR", "Durban"), "Western Cape",
    ),
    "MA": _CountryInfo(
        "Morocco", 1, "Office National de Sécurité Sanitaire des Produits Alimentaires",
        "Rabat", ("MAPTM", "Tanger Med"), "Souss-Massa",
    ),
    "PE": _CountryInfo(
        "Peru", -5, "Servicio Nacional de Sanidad Agraria", "Lima",
        ("PECLL", "Callao"), "Ica",
    ),
    "FR": _CountryInfo(
        "France", 1, "Ministère de l'Agriculture et de la Souveraineté alimentaire", "Paris",
        ("FRLEH", "Le Havre"), "Occitanie",
    ),
    "ES": _CountryInfo(
        "Spain", 1, "Ministerio de Agricultura, Pesca y Alimentación", "Madrid",
        ("ESALG", "Algeciras"), "Comunitat Valenciana",
    ),
    "BE": _CountryInfo(
        "Belgium", 1, "Federal Agency for the Safety of the Food Chain", "Brussels",
        ("BEANR", "Antwerpen"), "Vlaanderen",
    ),
    "GB": _CountryInfo(
        "United Kingdom", 0, "Animal and Plant Health Agency", "York",
        ("GBFXT", "Felixstowe"), "Kent",
    ),
    "JP": _CountryInfo(
        "Japan", 9, "Plant Protection Station, MAFF", "Yokohama",
        ("JPYOK", "Yokohama"), "Aomori",
    ),
    "SG": _CountryInfo(
        "Singapore", 8, "National Parks Board", "Singapore",
        ("SGSIN", "Singapore"), "Central Region",
    ),
    "AE": _CountryInfo(
        "United Arab Emirates", 4, "Ministry of Climate Change and Environment", "Dubai",
        ("AEJEA", "Jebel Ali"), "Dubai",
    ),
}  # fmt: skip

TRANSIT_CHOICES: Final = ("PA", "SG", "AE", "ES", "BE")
_TRANSIT_NAMES: Final = {"PA": "Panama"}


class _Commodity(NamedTuple):
    scientific: str
    common: dict[str, str]
    description: dict[str, str]
    hs: str
    product_class: tuple[str, str]  # IPPC product description (IPPCPCVP): code, English name
    condition: tuple[str, str]  # IPPC commodity condition (IPPCPCC): code, English name
    use: dict[str, str]
    package_type: str  # Rec 21
    by_volume: bool = False


_FRUITS: Final = ("FRUITS", "Fruits")
_FRESH: Final = ("FRESH", "Fresh")
_DRIED: Final = ("DRIED", "Dried")
_CONSUMPTION: Final = {"en": "Consumption", "es": "Consumo", "fr": "Consommation"}
_PLANTING: Final = {"en": "Planting", "es": "Plantación", "fr": "Plantation"}
_PROCESSING: Final = {"en": "Processing", "es": "Procesamiento", "fr": "Transformation"}
_DECORATIVE: Final = {"en": "Decorative use", "es": "Uso decorativo", "fr": "Usage décoratif"}

COMMODITIES: Final[tuple[_Commodity, ...]] = (
    _Commodity(
        "Malus domestica", {"en": "Apple", "es": "Manzana", "fr": "Pomme"},
        {"en": "Fresh apples", "es": "Manzanas frescas", "fr": "Pommes fraîches"},
        "080810", _FRUITS, _FRESH, _CONSUMPTION, "CT",
    ),
    _Commodity(
        "Vitis vinifera", {"en": "Table grape", "es": "Uva de mesa", "fr": "Raisin de table"},
        {"en": "Fresh table grapes", "es": "Uvas de mesa frescas", "fr": "Raisins de table frais"},
        "080610", _FRUITS, _FRESH, _CONSUMPTION, "BX",
    ),
    _Commodity(
        "Citrus sinensis", {"en": "Sweet orange", "es": "Naranja", "fr": "Orange douce"},
        {"en": "Fresh oranges", "es": "Naranjas frescas", "fr": "Oranges fraîches"},
        "080510", _FRUITS, _FRESH, _CONSUMPTION, "CT",
    ),
    _Commodity(
        "Persea americana", {"en": "Avocado", "es": "Aguacate", "fr": "Avocat"},
        {"en": "Fresh avocados", "es": "Aguacates frescos", "fr": "Avocats frais"},
        "080440", _FRUITS, _FRESH, _CONSUMPTION, "BX",
    ),
    _Commodity(
        "Rosa", {"en": "Rose", "es": "Rosa", "fr": "Rose"},
        {"en": "Cut roses", "es": "Rosas cortadas", "fr": "Roses coupées"},
        "060311", ("CUT_FLOWERS", "Cut flowers and branches"), _FRESH, _DECORATIVE, "BX",
    ),
    _Commodity(
        "Actinidia chinensis var. deliciosa", {"en": "Kiwifruit", "es": "Kiwi", "fr": "Kiwi"},
        {"en": "Fresh kiwifruit", "es": "Kiwis frescos", "fr": "Kiwis frais"},
        "081050", _FRUITS, _FRESH, _CONSUMPTION, "CT",
    ),
    _Commodity(
        "Solanum tuberosum", {"en": "Potato", "es": "Papa", "fr": "Pomme de terre"},
        {"en": "Seed potatoes", "es": "Papas para siembra", "fr": "Plants de pommes de terre"},
        "070110", ("BULBS_TUBERS", "Bulbs, tubers and rhizomes"), _FRESH, _PLANTING, "BG",
    ),
    _Commodity(
        "Zea mays", {"en": "Maize", "es": "Maíz", "fr": "Maïs"},
        {"en": "Maize seed for sowing", "es": "Semilla de maíz", "fr": "Semences de maïs"},
        "100510", ("SEEDS", "Seeds"), _DRIED, _PLANTING, "BG",
    ),
    _Commodity(
        "Coffea arabica", {"en": "Coffee", "es": "Café", "fr": "Café"},
        {"en": "Green coffee beans", "es": "Café verde en grano", "fr": "Café vert en grains"},
        "090111", ("COFFEE", "Coffee beans"), _DRIED, _PROCESSING, "BG",
    ),
    _Commodity(
        "Vaccinium corymbosum", {"en": "Blueberry", "es": "Arándano", "fr": "Myrtille"},
        {"en": "Fresh blueberries", "es": "Arándanos frescos", "fr": "Myrtilles fraîches"},
        "081040", _FRUITS, _FRESH, _CONSUMPTION, "CT",
    ),
    _Commodity(
        "Mangifera indica", {"en": "Mango", "es": "Mango", "fr": "Mangue"},
        {"en": "Fresh mangoes", "es": "Mangos frescos", "fr": "Mangues fraîches"},
        "080450", _FRUITS, _FRESH, _CONSUMPTION, "BX",
    ),
    _Commodity(
        "Allium cepa", {"en": "Onion", "es": "Cebolla", "fr": "Oignon"},
        {"en": "Dry onions", "es": "Cebollas secas", "fr": "Oignons secs"},
        "070310", ("VEGETABLES", "Vegetables"), _DRIED, _CONSUMPTION, "SA",
    ),
    _Commodity(
        "Pinus radiata", {"en": "Radiata pine", "es": "Pino insigne", "fr": "Pin de Monterey"},
        {"en": "Sawn timber", "es": "Madera aserrada", "fr": "Bois scié"},
        "440711", ("SAWN_WOOD", "Sawn wood"), ("KILN_DRIED", "Kiln-dried"), _PROCESSING, "PK", True,
    ),
    _Commodity(
        "Triticum aestivum", {"en": "Wheat", "es": "Trigo", "fr": "Blé"},
        {"en": "Wheat grain", "es": "Trigo en grano", "fr": "Blé en grains"},
        "100199", ("GRAIN", "Grain"), _DRIED, _PROCESSING, "VR", True,
    ),
)  # fmt: skip

# Statement codes (SPSFL, ADRP, RPCST) of schemas/codelists/statements.csv.
_EXPORT_STATEMENT: Final = "1"  # the ISPM 12 certifying statement, 851 only
_REEXPORT_STATEMENT: Final = "3"  # the ISPM 12 re-export statement, 657 only
_REPLACEMENT_STATEMENT: Final = "4"  # "replaces and cancels the certificate…"
_ELECTRONIC_STATEMENT: Final = "5"  # "an electronic phytosanitary certificate…"

_PESTS: Final = (
    "Ceratitis capitata",
    "Bactrocera dorsalis",
    "Thaumatotibia leucotreta",
    "Cydia pomonella",
    "Phyllocnistis citrella",
    "Trogoderma granarium",
    "Globodera rostochiensis",
)
_DECLARATION: Final = {
    "en": "The consignment was inspected and found free from {pest}.",
    "es": "El envío fue inspeccionado y se encontró libre de {pest}.",
    "fr": "L'envoi a été inspecté et trouvé exempt de {pest}.",
}
_PACKAGING_TEXT: Final = {
    "en": "{n} cartons on {p} pallets",
    "es": "{n} cajas de cartón en {p} paletas",
    "fr": "{n} cartons sur {p} palettes",
}
_REPLACEMENT_REASON: Final = {
    "en": "Consignee address corrected",
    "es": "Corrección de la dirección del destinatario",
    "fr": "Adresse du destinataire corrigée",
}
_FIRST_NAMES: Final = ("Amina", "Jan", "Lucía", "Wanjiru", "Pierre", "Sofía", "Kenji", "Tom")
_LAST_NAMES: Final = ("Otieno", "de Vries", "González", "Kamau", "Martin", "Rojas", "Sato", "Ngata")
_VESSELS: Final = ("MSC Anna", "Maersk Elba", "CMA CGM Tage", "Hapag Leverkusen Express")
_AIRLINES: Final = ("KQ 0112", "KL 0566", "LA 2421", "EK 9784")
_TRUCKS: Final = ("Truck KBX 123A", "Truck AB-12-CD", "Truck 4821-XT")


class _Treatment(NamedTuple):
    level1: str
    level2: str
    chemicals: tuple[str, ...]
    temperature: Measure | None
    concentration: Measure | None
    duration: Measure


# Treatment types and pesticide codes as in the bundled code lists (schemas/codelists).
_TREATMENTS: Final = (
    _Treatment("CHT", "FUM", ("L01",), Measure(value=Decimal("21"), unit_code="CEL"), None,
               Measure(value=Decimal("24"), unit_code="HUR")),
    _Treatment("CHT", "DIP", ("110", "65"), None, Measure(value=Decimal("0.1"), unit_code="P1"),
               Measure(value=Decimal("2"), unit_code="MIN")),
    _Treatment("PHT", "CLD", (), Measure(value=Decimal("1.1"), unit_code="CEL"), None,
               Measure(value=Decimal("384"), unit_code="HUR")),
    _Treatment("PHT", "HTT", (), Measure(value=Decimal("56"), unit_code="CEL"), None,
               Measure(value=Decimal("30"), unit_code="MIN")),
)  # fmt: skip


def _country(code: str) -> Country:
    info = COUNTRIES.get(code)
    return Country(id=code, name=info.name if info else _TRANSIT_NAMES.get(code))


def _texts(values: dict[str, str], languages: Languages) -> tuple[Text, ...]:
    return tuple(Text(value=values[lang], language=lang) for lang in languages if lang in values)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _quantity(rng: random.Random, low: int, high: int, places: int = 1) -> Decimal:
    return Decimal(rng.randrange(low * 10**places, high * 10**places)).scaleb(-places)


def make_attachment(
    *, seed: int = 0, size_bytes: int = 1024, filename: str | None = None
) -> Attachment:
    """A PDF-looking attachment of exactly ``size_bytes`` (random body: base64 will not shrink)."""
    header = b"%PDF-1.4\n"
    body = random.Random(seed).randbytes(max(0, size_bytes - len(header)))
    return Attachment(
        filename=filename or f"attachment-{seed}.pdf", content=(header + body)[:size_bytes]
    )


def make_treatment(
    *, seed: int = 0, start: datetime, languages: Languages = ("en",)
) -> AppliedProcess:
    """A treatment from a small realistic set, with a ``TTFT`` free text in each language."""
    rng = random.Random(seed)
    spec = rng.choice(_TREATMENTS)
    end = start + (
        timedelta(hours=int(spec.duration.value))
        if spec.duration.unit_code == "HUR"
        else timedelta(minutes=int(spec.duration.value))
    )
    extra = tuple(
        Text(value=v, language=lang)
        for lang, v in (
            ("en", "Treatment carried out under official supervision"),
            ("es", "Tratamiento realizado bajo supervisión oficial"),
            ("fr", "Traitement effectué sous contrôle officiel"),
        )
        if lang in languages
    )
    base = treatment(
        level1=spec.level1,
        level2=spec.level2,
        chemicals=spec.chemicals,
        temperature=spec.temperature,
        concentration=spec.concentration,
        duration=spec.duration,
        start=start,
        end=end,
        additional_information=extra,
    )
    if languages == ("en",):
        return base
    # Other languages get their own TTFT text next to the composed English one.
    english = base.characteristics[0]
    others = tuple(
        Text(value=f"[{lang}] {english.descriptions[0].value}", language=lang)
        for lang in languages
        if lang != "en"
    )
    first = dataclasses.replace(english, descriptions=english.descriptions + others)
    return dataclasses.replace(base, characteristics=(first, *base.characteristics[1:]))


def make_trade_line(
    *,
    seed: int = 0,
    sequence: int = 1,
    origin: str = "KE",
    languages: Languages = ("en",),
    with_treatment: bool = True,
    free_text_packaging: bool = False,
    treatment_start: datetime | None = None,
    extra_notes: tuple[LineNote, ...] = (),
) -> TradeLineItem:
    """One commodity line; ``free_text_packaging`` writes ``OPTND`` instead of packages."""
    rng = random.Random(seed)
    commodity = rng.choice(COMMODITIES)
    net = _quantity(rng, 200, 20000)
    gross = (net * Decimal("1.08")).quantize(Decimal("0.1"))
    count = rng.randrange(20, 1500)
    pallets = max(1, count // 60)
    notes: list[LineNote] = []
    if free_text_packaging:
        notes.append(
            packaging_note(
                *(
                    Text(value=_PACKAGING_TEXT[lang].format(n=count, p=pallets), language=lang)
                    for lang in languages
                )
            )
        )
        packages: tuple[Package, ...] = ()
    else:
        packages = (
            Package(level=1, type_code=commodity.package_type, quantity=Decimal(count)),
            Package(level=2, type_code="PX", quantity=Decimal(pallets)),
        )
    if rng.random() < 0.5:
        notes.append(line_distinguishing_marks(f"Lot {rng.randrange(1000, 99999)}"))
    if rng.random() < 0.4:
        pest = rng.choice(_PESTS)
        notes.extend(
            line_additional_declaration(_DECLARATION[lang].format(pest=pest), language=lang)
            for lang in languages
        )
    if rng.random() < 0.2:
        notes.extend(other_quantity(str(rng.randrange(10, 500)), "Units"))
    notes.extend(extra_notes)
    origin_info = COUNTRIES.get(origin)
    subdivision = (
        Subdivision(name=origin_info.region, hierarchical_level_code="1")
        if origin_info is not None and rng.random() < 0.6
        else None
    )
    start = treatment_start or datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
    return TradeLineItem(
        sequence=sequence,
        descriptions=_texts(commodity.description, languages),
        common_names=_texts(commodity.common, languages),
        scientific_names=(Text(value=commodity.scientific),),
        intended_uses=_texts(commodity.use, languages),
        net_weight=Measure(value=net, unit_code="KGM"),
        gross_weight=Measure(value=gross, unit_code="KGM"),
        net_volume=(
            Measure(value=_quantity(rng, 5, 80, 2), unit_code="MTQ")
            if commodity.by_volume
            else None
        ),
        additional_notes=tuple(notes),
        classifications=(
            Classification(
                system_name="HS",
                class_code=commodity.hs,
                class_names=_texts(commodity.description, ("en",)),
            ),
            Classification(
                system_name="IPPCPCVP",
                class_code=commodity.product_class[0],
                class_names=(Text(value=commodity.product_class[1], language="en"),),
            ),
            Classification(
                system_name="IPPCPCC",
                class_code=commodity.condition[0],
                class_names=(Text(value=commodity.condition[1], language="en"),),
            ),
        ),
        packages=packages,
        origin_countries=(
            OriginCountry(
                id=origin,
                name=origin_info.name if origin_info else None,
                subdivision=subdivision,
            ),
        ),
        treatments=(
            (make_treatment(seed=seed, start=start, languages=languages),) if with_treatment else ()
        ),
    )


def make_certificate(
    *,
    seed: int = 0,
    type_code: int = EXPORT_CERTIFICATE,
    status_code: int = STATUS_ISSUED,
    n_lines: int = 3,
    with_treatment: bool = True,
    attachments_kb: int = 0,
    n_attachments: int = 1,
    replacement_of: str | None = None,
    n_transit: int = 0,
    languages: Languages = ("en",),
    free_text_packaging: bool = False,
    exporter: str | None = None,
    importer: str | None = None,
    origin: str | None = None,
    mode_code: int | None = None,
    certificate_number: str | None = None,
    issue_datetime: datetime | None = None,
) -> Certificate:
    """A complete, hub-valid certificate. ``attachments_kb`` is the total raw size of the
    attachments (split over ``n_attachments`` files); ``replacement_of`` is the number of the
    certificate this one replaces. A 657 gets re-export (``RPC*``) notes on every line."""
    unsupported = set(languages) - set(_DECLARATION)
    if unsupported or not languages:
        raise ValueError(f"languages must be among {sorted(_DECLARATION)}, got {languages!r}")
    rng = random.Random(seed)
    codes = sorted(COUNTRIES)
    exporter = exporter or rng.choice(codes)
    importer = importer or rng.choice([c for c in codes if c != exporter])
    reexport = type_code == REEXPORT_CERTIFICATE
    if origin is None:
        origin = (
            rng.choice([c for c in codes if c not in (exporter, importer)])
            if reexport
            else exporter
        )
    ex, im = COUNTRIES[exporter], COUNTRIES[importer]
    tz = timezone(timedelta(hours=ex.utc_offset_hours))
    issued = issue_datetime or datetime(2025, 1, 6, 9, 30, tzinfo=tz) + timedelta(
        days=rng.randrange(0, 300), minutes=rng.randrange(0, 600)
    )
    number = certificate_number or f"{exporter}-{issued.year}-{seed:07d}"
    mode = mode_code if mode_code is not None else rng.choice((1, 1, 3, 4))

    extra_line_notes: tuple[LineNote, ...] = ()
    if reexport:
        extra_line_notes = reexport_notes(
            ReexportDetails(
                origin_country_id=origin,
                original_certificate_number=f"{origin}-{issued.year}-{rng.randrange(10**6):06d}",
                original_attached=rng.random() < 0.5,
                certified_copy_attached=rng.random() < 0.5,
                packed=True,
                repacked=rng.random() < 0.3,
                original_containers=rng.random() < 0.7,
                new_containers=rng.random() < 0.3,
                based_on_original_certificate=True,
                additional_inspection=rng.random() < 0.5,
                statement=_REEXPORT_STATEMENT,
            )
        )
    lines = tuple(
        make_trade_line(
            seed=seed * 1000 + i,
            sequence=i,
            origin=origin,
            languages=languages,
            with_treatment=with_treatment,
            free_text_packaging=free_text_packaging,
            treatment_start=issued - timedelta(days=3),
            extra_notes=extra_line_notes,
        )
        for i in range(1, n_lines + 1)
    )

    notes: list[Note] = [statement(_REEXPORT_STATEMENT if reexport else _EXPORT_STATEMENT)]
    if rng.random() < 0.5:
        notes.append(statement(_ELECTRONIC_STATEMENT))
    pest = rng.choice(_PESTS)
    notes.extend(
        additional_declaration(_DECLARATION[lang].format(pest=pest), language=lang)
        for lang in languages
    )
    if rng.random() < 0.5:
        notes.append(import_permit(f"IP/{importer}/{issued.year}/{rng.randrange(10**5):05d}"))
    if rng.random() < 0.3:
        notes.append(distinguishing_marks(f"Marks: {exporter}{rng.randrange(10**4):04d}"))

    references = tuple(
        ReferencedDocument(
            type_code="916",
            relationship_type_code="ZZZ",
            id=f"{number}-A{i + 1}",
            issue_datetime=issued,
            attachment=make_attachment(
                seed=seed * 100 + i,
                size_bytes=attachments_kb * 1024 // n_attachments,
                filename=f"{number}-lab-report-{i + 1}.pdf",
            ),
            information=Text(value="Laboratory analysis report", language="en"),
        )
        for i in range(n_attachments if attachments_kb > 0 else 0)
    )

    document = ExchangedDocument(
        name="Phytosanitary Certificate for Re-Export" if reexport else "Phytosanitary Certificate",
        certificate_number=number,
        type_code=type_code,
        status_code=status_code,
        issue_datetime=issued,
        issuer_name=ex.nppo,
        notes=tuple(notes),
        referenced_documents=references,
        signatory=Signatory(
            actual_datetime=issued,
            place_name=ex.city,
            provider_name=ex.nppo,
            person_name=_person(rng),
            clauses=(Clause(id=1, content="Authorised officer"),) if rng.random() < 0.5 else (),
        ),
    )
    transits = tuple(
        _country(c)
        for c in rng.sample(
            [t for t in TRANSIT_CHOICES if t not in (exporter, importer)], n_transit
        )
    )
    means = {1: _VESSELS, 3: _TRUCKS, 4: _AIRLINES}.get(mode, _VESSELS)
    consignment = Consignment(
        consignor=Party(
            name=f"{rng.choice(('Green', 'Sun', 'Valley', 'Highland'))} Produce Exporters Ltd",
            type_codes=(
                Code(value=f"{rng.randrange(10**8):08d}", list_name="NationalRegistrationNumber"),
            ),
            address_lines=(f"{rng.randrange(1, 200)} Industrial Road", f"{ex.city}, {ex.name}"),
        ),
        consignee=Party(
            name=f"{rng.choice(('Fresh', 'Euro', 'Prime', 'Global'))} Imports B.V.",
            address_lines=(
                f"Harbour Street {rng.randrange(1, 90)}",
                f"{im.port[1]}",
                im.name,
            ),
        ),
        export_country=_country(exporter),
        import_country=_country(importer),
        transit_countries=transits,
        unloading_baseport=Location(id=im.port[0], name=im.port[1]),
        examination_location_name=ex.city,
        transport_movements=(
            TransportMovement(
                mode_code=mode,
                id=f"V{rng.randrange(100, 999)}" if mode == 1 else None,
                means_name=rng.choice(means),
            ),
        ),
        transport_equipment=(
            TransportEquipment(
                id=f"MSCU{rng.randrange(10**7):07d}", seal_id=f"SL{rng.randrange(10**6):06d}"
            )
            if mode == 1
            else None
        ),
        trade_line_items=lines,
    )
    cert = Certificate(document=document, consignment=consignment)
    if replacement_of is not None:
        reason = _REPLACEMENT_REASON
        cert = mark_replacing(
            cert,
            Replacement(
                replaced_number=replacement_of,
                replaced_date=issued - timedelta(days=2),
                reason=Text(value=reason[languages[0]], language=languages[0]),
                statement=_REPLACEMENT_STATEMENT,
            ),
        )
    return cert


# --- sized documents for the benchmark ----------------------------------------------------------


def make_small(*, seed: int = 0) -> Certificate:
    """About 5 KB: one untreated line shipped by sea."""
    return make_certificate(seed=seed, n_lines=1, mode_code=1, with_treatment=False)


def make_typical(*, seed: int = 0) -> Certificate:
    """About 40 KB: eight treated lines, texts in three languages."""
    return make_certificate(seed=seed, n_lines=8, languages=("en", "es", "fr"), mode_code=1)


def make_large(*, seed: int = 0) -> Certificate:
    """About 400 KB: a typical certificate plus two attachments (~270 KB raw, base64 ~360 KB)."""
    return make_certificate(
        seed=seed,
        n_lines=8,
        languages=("en", "es", "fr"),
        mode_code=1,
        attachments_kb=270,
        n_attachments=2,
    )


# --- a varied corpus -----------------------------------------------------------------------------


def make_corpus(*, n: int = 40, seed: int = 0) -> list[Certificate]:
    """``n`` varied certificates: 851 and 657, replacements, withdrawals (status 40), several
    lines, treatments, attachments, transit countries, multilingual notes, free-text packaging."""
    corpus = []
    for i in range(n):
        s = seed * 10_000 + i
        kind = i % 8
        if kind == 0:
            cert = make_certificate(seed=s)
        elif kind == 1:
            cert = make_certificate(seed=s, type_code=REEXPORT_CERTIFICATE, n_lines=2)
        elif kind == 2:
            cert = make_certificate(seed=s, replacement_of=f"KE-2025-{s + 7:07d}", exporter="KE")
        elif kind == 3:
            cert = withdrawal_of(make_certificate(seed=s, n_lines=1))
        elif kind == 4:
            cert = make_certificate(seed=s, attachments_kb=3, n_attachments=2, n_transit=2)
        elif kind == 5:
            cert = make_certificate(
                seed=s, languages=("en", "es", "fr"), free_text_packaging=True, n_transit=1
            )
        elif kind == 6:
            cert = make_certificate(
                seed=s,
                type_code=REEXPORT_CERTIFICATE,
                replacement_of=f"NL-2025-{s:07d}",
                languages=("fr", "en"),
                exporter="NL",
            )
        else:
            cert = make_certificate(seed=s, n_lines=6, with_treatment=False, mode_code=4)
        corpus.append(cert)
    return corpus
