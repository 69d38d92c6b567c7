"""The bundled harmonised code lists and their loader."""

import csv
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from ephyto_core._codelists import (
    KNOWN_LISTS,
    CodeList,
    CodeLists,
    CodeRow,
    default_code_lists,
    read_code_list,
)
from ephyto_core._errors import CodeListError, EphytoError
from ephyto_core._paths import codelists_dir

LANGS = ("en", "es", "fr")
#: Pesticide names are Codex (English) names; the hub's pesticide type has no language.
ENGLISH_ONLY = {"pesticides"}
#: Extra columns whose value is a text, so legitimately differs between languages.
PER_LANGUAGE_COLUMNS = {"used_transport_mean", "optional_text"}

#: Every coded note subject and treatment characteristic of DESIGN.md section 3.
DOCUMENT_SUBJECTS = {
    "ADEDL", "ADIPEDL", "ADDIEDL", "ADAOEDL", "DMCL", "SPSFL", "ADRP", "ADRPN", "ADRPR", "ADRD",
}  # fmt: skip
TRADE_LINE_SUBJECTS = {
    "OPTND",
    "OQV",
    "OQU",
    "DMTLIL",
    "ADTLIL",
    "ADIPTLIL",
    "ADDITLIL",
    "ADAOTLIL",
}
REEXPORT_SUBJECTS = {
    "RPCST", "RPCCO", "RPCRF", "RPCOR", "RPCTC", "RPCPK",
    "RPCRP", "RPCOC", "RPCNC", "RPCPC", "RPCAI",
}  # fmt: skip
TREATMENT_CHARACTERISTICS = {"TTL1", "TTL2", "TTCH", "TTTM", "TTCO", "TTAI", "TTFT"}


@pytest.fixture(scope="module")
def lists() -> CodeLists:
    return CodeLists.load()


def _raw_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- the bundled data -------------------------------------------------------------------------


def test_every_known_list_ships_and_loads(lists: CodeLists) -> None:
    assert set(KNOWN_LISTS) <= set(lists.names())
    for name in KNOWN_LISTS:
        assert len(lists[name]) > 0, name


@pytest.mark.parametrize("name", sorted(set(KNOWN_LISTS) - ENGLISH_ONLY))
def test_every_code_has_english_spanish_and_french_text(lists: CodeLists, name: str) -> None:
    code_list = lists[name]
    for code in code_list.codes(active_only=False):
        for lang in LANGS:
            row = code_list.get(code, lang)
            assert row is not None and row.text.strip(), f"{name}: {code} lacks {lang}"
    assert code_list.languages() == set(LANGS)


def test_pesticides_have_an_english_name_for_every_code(lists: CodeLists) -> None:
    pesticides = lists.pesticides
    assert pesticides.languages() == {"en"}
    assert all(pesticides.get(code, "en") for code in pesticides.codes(active_only=False))


@pytest.mark.parametrize("name", KNOWN_LISTS)
def test_code_and_language_pairs_are_unique_in_the_file(name: str) -> None:
    # Read with the csv module, not the loader, so the data is checked independently of it.
    rows = _raw_rows(codelists_dir() / f"{name}.csv")
    pairs = [(row["code"], row["lang"]) for row in rows]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("name", KNOWN_LISTS)
def test_language_independent_columns_agree_across_languages(lists: CodeLists, name: str) -> None:
    code_list = lists[name]
    for code in code_list.codes(active_only=False):
        rows = [row for lang in LANGS if (row := code_list.get(code, lang)) is not None]
        shared = [
            (row.active, {k: v for k, v in row.extra.items() if k not in PER_LANGUAGE_COLUMNS})
            for row in rows
        ]
        assert all(item == shared[0] for item in shared), f"{name}: {code}"


def test_last_modified_is_utc_and_names_who_changed_it(lists: CodeLists) -> None:
    for name in lists.names():
        for row in lists[name].rows():
            assert row.last_modified.utcoffset() is not None
            assert row.last_modified.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
            assert row.last_modified_by


def test_units_carry_the_hub_unit_types(lists: CodeLists) -> None:
    expected = {
        "KGM": "WEIGHT", "GRM": "WEIGHT", "TNE": "WEIGHT", "LBR": "WEIGHT",
        "MTQ": "VOLUME", "LTR": "VOLUME",
        "HUR": "DURATION", "MIN": "DURATION", "SEC": "DURATION", "DAY": "DURATION",
        "CEL": "TEMPERATURE", "FAH": "TEMPERATURE",
        "P1": "CONCENTRATION", "59": "CONCENTRATION", "GL": "CONCENTRATION",
        "MTK": "AREA", "HAR": "AREA",
        "MTR": "DISTANCE", "KMT": "DISTANCE",
    }  # fmt: skip
    for code, unit_type in expected.items():
        row = lists.units.get(code)
        assert row is not None, code
        assert row.extra["type"] == unit_type, code
        assert row.extra["symbol"], code
    assert lists.units.get("CEL").extra["symbol"] == "°C"  # type: ignore[union-attr]
    types = {row.extra["type"] for row in lists.units.rows()}
    assert types == {
        "WEIGHT", "VOLUME", "DURATION", "TEMPERATURE", "CONCENTRATION", "AREA", "DISTANCE",
    }  # fmt: skip


def test_other_known_codes_are_present(lists: CodeLists) -> None:
    assert {
        "BX",
        "CT",
        "BG",
        "PK",
        "VR",
        "VY",
        "VO",
        "NE",
        "CR",
        "PX",
    } <= lists.package_types.codes()
    assert lists.certificate_types.codes() == {"851", "657"}
    assert {"70", "40"} <= lists.certificate_statuses.codes()
    assert {"NZ", "AR", "FR", "US", "CN", "BO", "SS", "CW"} <= lists.countries.codes()
    assert lists.countries.text("NZ", "fr") == "Nouvelle-Zélande"
    assert lists.countries.text("ES", "es") == "España"
    assert lists.transport_modes.codes() == {str(mode) for mode in range(10)}
    assert lists.transport_modes.text("1") == "Maritime transport"
    assert lists.package_levels.codes() == {"1", "2", "3", "4", "5"}


def test_note_subjects_cover_every_coded_subject_with_its_scope(lists: CodeLists) -> None:
    subjects = lists.note_subjects
    expected_scope = (
        dict.fromkeys(DOCUMENT_SUBJECTS, "document")
        | dict.fromkeys(TRADE_LINE_SUBJECTS | REEXPORT_SUBJECTS, "trade_line")
        | dict.fromkeys(TREATMENT_CHARACTERISTICS, "treatment")
    )
    assert subjects.codes() == set(expected_scope)
    for code, scope in expected_scope.items():
        assert subjects.get(code).extra["scope"] == scope, code  # type: ignore[union-attr]


def test_reexport_subjects_are_limited_to_657_and_the_others_to_none(lists: CodeLists) -> None:
    for row in lists.note_subjects.rows():
        expected = "657" if row.code in REEXPORT_SUBJECTS else "0"
        assert row.extra["doc_type_only"] == expected, row.code


def test_each_certificate_type_has_an_active_certifying_statement(lists: CodeLists) -> None:
    statements = lists.statements
    usable_on = {
        doc_type: {
            row.code
            for row in statements.rows("en")
            if row.active and row.extra["doc_type_only"] in ("0", doc_type)
        }
        for doc_type in ("851", "657")
    }
    assert usable_on["851"] and usable_on["657"]
    assert usable_on["851"] != usable_on["657"]  # some statements are limited to one type


def test_every_level_two_treatment_has_an_existing_level_one_parent(lists: CodeLists) -> None:
    rows = lists.treatment_types.rows("en")
    level_one = {row.code for row in rows if row.extra["level"] == "1"}
    level_two = [row for row in rows if row.extra["level"] == "2"]
    assert level_one and level_two
    assert {row.extra["parent_code"] for row in level_two} <= level_one
    assert all(row.extra["parent_code"] == "" for row in rows if row.code in level_one)
    assert {"FUM", "HTT", "CLD", "IRR", "DIP", "SPR"} <= {row.code for row in level_two}


def test_pesticide_codes_are_codex_numbers_or_marked_as_ours(lists: CodeLists) -> None:
    for row in lists.pesticides.rows():
        if row.extra["codex_number"]:
            assert row.code == row.extra["codex_number"]
        else:
            assert re.fullmatch(r"L\d\d", row.code), row.code
    assert len(lists.pesticides) >= 40


# --- agreement with the external reference data -----------------------------------------------


def _uncefact_codes(path: Path) -> set[str]:
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    xs = "{http://www.w3.org/2001/XMLSchema}"
    return {str(e.get("value")) for e in tree.iter(f"{xs}enumeration")}


def test_countries_are_exactly_the_iso_3166_list(lists: CodeLists, conformance_dir: Path) -> None:
    iso = _uncefact_codes(
        conformance_dir
        / "uncefact-d17a/identifierlist/standard/ISO_ISOTwo-letterCountryCode_SecondEdition2006.xsd"
    )
    assert lists.countries.codes() == iso


def test_modes_levels_and_package_types_are_unece_codes(
    lists: CodeLists, conformance_dir: Path
) -> None:
    standard = conformance_dir / "uncefact-d17a/codelist/standard"
    assert lists.transport_modes.codes() == _uncefact_codes(
        standard / "UNECE_TransportModeCode_2.xsd"
    )
    assert lists.package_levels.codes() == _uncefact_codes(
        standard / "UNECE_PackagingLevelCode_D16B.xsd"
    )
    rec21 = _uncefact_codes(standard / "UNECE_PackageTypeCode_2006.xsd")
    assert lists.package_types.codes() <= rec21


@pytest.mark.parametrize(
    ("subset", "unit_type"),
    [
        ("Weight", "WEIGHT"),
        ("Volume", "VOLUME"),
        ("Duration", "DURATION"),
        ("Temperature", "TEMPERATURE"),
        ("Linear", "DISTANCE"),
    ],
)
def test_unit_types_agree_with_the_unece_rec20_subsets(
    lists: CodeLists, conformance_dir: Path, subset: str, unit_type: str
) -> None:
    path = (
        conformance_dir
        / f"uncefact-d17a/codelist/standard/UNECE_MeasurementUnitCommonCode{subset}_4.xsd"
    )
    subset_codes = _uncefact_codes(path)
    ours = {row.code for row in lists.units.rows("en") if row.extra["type"] == unit_type}
    assert ours & subset_codes, subset
    for code in subset_codes & lists.units.codes():
        assert lists.units.get(code).extra["type"] == unit_type, code  # type: ignore[union-attr]


#: Codes the public sample certificate uses that our lists do not know (see schemas/README.md):
#: TTCH 240 is a Codex number we could not confirm; TTL2 "OP" is not in our treatment tree.
SAMPLE_GAPS = {("pesticides", "240"), ("treatment_types", "OP")}


def _sample_codes(root: etree._Element) -> set[tuple[str, str]]:
    def texts(name: str) -> list[str]:
        return [(e.text or "").strip() for e in root.iter() if etree.QName(e).localname == name]

    found: set[tuple[str, str]] = set()
    found |= {("countries", c) for c in texts("ID") if re.fullmatch(r"[A-Z]{2}", c)}
    found |= {("transport_modes", c) for c in texts("ModeCode")}
    found |= {("package_levels", c) for c in texts("LevelCode")}
    found |= {("note_subjects", c) for c in texts("Subject")}
    found |= {("certificate_statuses", c) for c in texts("StatusCode")}
    found |= {("units", str(e.get("unitCode"))) for e in root.iter() if e.get("unitCode")}
    for package in (e for e in root.iter() if etree.QName(e).localname == "PhysicalSPSPackage"):
        found |= {
            ("package_types", (c.text or "").strip())
            for c in package
            if etree.QName(c).localname == "TypeCode"
        }
    for document in (e for e in root.iter() if etree.QName(e).localname == "SPSExchangedDocument"):
        found |= {
            ("certificate_types", (c.text or "").strip())
            for c in document
            if etree.QName(c).localname == "TypeCode"
        }
    for note in (e for e in root.iter() if etree.QName(e).localname.endswith("SPSNote")):
        subject, content = ((c.text or "").strip() for c in list(note)[:2])
        if subject in ("SPSFL", "ADRP", "RPCST"):  # notes whose content is a statement code
            found.add(("statements", content))
    for characteristic in (
        e for e in root.iter() if etree.QName(e).localname == "ApplicableSPSProcessCharacteristic"
    ):
        values = [(c.text or "").strip() for c in characteristic]
        target = {"TTL1": "treatment_types", "TTL2": "treatment_types", "TTCH": "pesticides"}
        if len(values) > 1 and values[0] in target:
            found.add((target[values[0]], values[1]))
    return found


def _parse(path: Path) -> etree._Element:
    return etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True)
    ).getroot()


def test_every_code_in_the_public_sample_certificate_is_known(
    lists: CodeLists, conformance_dir: Path
) -> None:
    used = _sample_codes(_parse(conformance_dir / "hub-wsdl-2024/SPSCertificateContent.sample.xml"))
    assert {("units", "KGM"), ("note_subjects", "RPCAI"), ("statements", "5")} <= used  # scan works
    unknown = {(name, code) for name, code in used if code not in lists[name].codes()}
    assert unknown == SAMPLE_GAPS


def test_every_code_in_the_bundled_example_certificate_is_known(lists: CodeLists) -> None:
    example = codelists_dir().parent / "examples" / "phyto-851.xml"
    used = _sample_codes(_parse(example))
    assert ("certificate_types", "851") in used
    assert {(name, code) for name, code in used if code not in lists[name].codes()} == set()


def test_statement_codes_in_the_sample_fit_the_notes_that_carry_them(lists: CodeLists) -> None:
    # The public sample (an 851) cites statement 5 in SPSFL, 4 in ADRP and 3 in RPCST.
    assert lists.statements.get("5").extra["doc_type_only"] in ("0", "851")  # type: ignore[union-attr]
    assert lists.statements.get("3").extra["doc_type_only"] == "657"  # type: ignore[union-attr]
    assert "4" in lists.statements


# --- lookups ----------------------------------------------------------------------------------


def test_text_falls_back_to_english(lists: CodeLists) -> None:
    assert lists.pesticides.text("238", "fr") == "Clothianidin"
    assert lists.pesticides.get("238", "fr") is None
    assert lists.units.text("HUR", "es") == "hora"
    assert lists.units.text("HUR", "de") == "hour"
    assert lists.units.text("NOPE") is None
    assert lists.units.get("NOPE") is None


def test_inactive_codes_are_not_members_but_keep_their_texts(lists: CodeLists) -> None:
    statements = lists.statements
    inactive = statements.codes(active_only=False) - statements.codes()
    assert inactive
    for code in inactive:
        assert code not in statements
        assert statements.text(code)
    assert "5" in statements
    assert "999" not in statements


def test_rows_can_be_filtered_by_language(lists: CodeLists) -> None:
    assert len(lists.countries.rows("fr")) == 249
    assert len(lists.countries.rows()) == 3 * 249
    assert lists.countries.rows("de") == ()
    assert all(row.lang == "es" for row in lists.units.rows("es"))


def test_lookups_never_scan_the_rows(lists: CodeLists) -> None:
    class Untouchable(tuple[CodeRow, ...]):
        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("a lookup walked the rows")

    code_list = CodeList("units", lists.units.rows())
    code_list._rows = Untouchable()
    assert "KGM" in code_list
    assert code_list.get("CEL", "fr") is not None
    assert code_list.text("MTQ", "es") == "metro cúbico"
    assert "HUR" in code_list.codes()
    assert code_list.codes() is code_list.codes()  # built once, not per call


def test_unknown_list_name_is_a_key_error_naming_the_known_ones(lists: CodeLists) -> None:
    with pytest.raises(KeyError, match="countries"):
        lists["colours"]


def test_default_code_lists_are_loaded_once() -> None:
    assert default_code_lists() is default_code_lists()
    assert "KGM" in default_code_lists().units


def test_schemas_dir_override_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(codelists_dir(), tmp_path / "codelists")
    units = tmp_path / "codelists" / "units.csv"
    units.write_text(
        units.read_text(encoding="utf-8").replace("KGM,en,kilogram,", "KGM,en,kilo,"),
        encoding="utf-8",
    )
    monkeypatch.setenv("EPHYTO_SCHEMAS_DIR", str(tmp_path))
    assert CodeLists.load().units.text("KGM") == "kilo"


# --- malformed files fail at load with file and line ----------------------------------------


def _copy_list(tmp_path: Path, name: str) -> Path:
    target = tmp_path / f"{name}.csv"
    shutil.copyfile(codelists_dir() / f"{name}.csv", target)
    return target


def _replace_line(path: Path, line: int, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = new + "\n"
    path.write_text("".join(lines), encoding="utf-8")


Breakage = Callable[[Path], object]
STAMP = "2026-11-25T00:00:00Z"

BREAKAGES: list[tuple[str, str, Breakage, int | None, str]] = [
    (
        "units",
        "too few fields",
        lambda p: _replace_line(p, 5, "GRM,en,gram"),
        5,
        "expected 8 fields",
    ),
    (
        "units",
        "bad active",
        lambda p: _replace_line(p, 3, f"KGM,es,kilogramo,WEIGHT,kg,yes,{STAMP},x"),
        3,
        "active must be true or false",
    ),
    (
        "units",
        "unknown unit type",
        lambda p: _replace_line(p, 4, f"KGM,fr,kilogramme,WEIGTH,kg,true,{STAMP},x"),
        4,
        "type must be one of",
    ),
    (
        "units",
        "duplicate pair",
        lambda p: _replace_line(p, 3, f"KGM,en,kilogram,WEIGHT,kg,true,{STAMP},x"),
        3,
        "duplicate code 'KGM' for language 'en' (first on line 2)",
    ),
    (
        "units",
        "timestamp not ISO",
        lambda p: _replace_line(p, 2, "KGM,en,kilogram,WEIGHT,kg,true,25/11/2026,x"),
        2,
        "not an ISO 8601 date-time",
    ),
    (
        "units",
        "timestamp not UTC",
        lambda p: _replace_line(p, 2, "KGM,en,kilogram,WEIGHT,kg,true,2026-11-25T00:00:00+02:00,x"),
        2,
        "must be in UTC",
    ),
    (
        "units",
        "language not ISO 639-1",
        lambda p: _replace_line(p, 2, f"KGM,EN,kilogram,WEIGHT,kg,true,{STAMP},x"),
        2,
        "lang must be",
    ),
    (
        "units",
        "empty text",
        lambda p: _replace_line(p, 2, f"KGM,en,,WEIGHT,kg,true,{STAMP},x"),
        2,
        "empty text",
    ),
    (
        "units",
        "missing column",
        lambda p: _replace_line(p, 1, "code,lang,text,type,active,last_modified,last_modified_by"),
        1,
        "lacks column(s): symbol",
    ),
    (
        "units",
        "unterminated quote",
        lambda p: _replace_line(p, 6, f'GRM,es,"gramo,WEIGHT,g,true,{STAMP},x'),
        6,
        "CSV syntax error",
    ),
    (
        "treatment_types",
        "orphan level 2",
        lambda p: _replace_line(p, 11, f"FUM,en,Fumigation,2,XXX,true,{STAMP},x"),
        11,
        "no level-1 parent 'XXX'",
    ),
    (
        "statements",
        "doc type out of range",
        lambda p: _replace_line(p, 2, f"1,en,Some statement,852,false,{STAMP},x"),
        2,
        "doc_type_only must be one of",
    ),
    ("units", "empty file", lambda p: p.write_bytes(b""), 1, "empty file"),
    (
        "units",
        "invalid UTF-8",
        lambda p: p.write_bytes(
            b"code,lang,text,type,symbol,active,last_modified,last_modified_by\n"
            b"KGM,en,kilogram,WEIGHT,kg,true,2026-11-25T00:00:00Z,x\n"
            b"KGM,es,kilogr\xe1mo,WEIGHT,kg,true,2026-11-25T00:00:00Z,x\n"
        ),
        3,
        "not valid UTF-8",
    ),
]


@pytest.mark.parametrize(
    ("name", "breakage", "line", "reason"),
    [(name, breakage, line, reason) for name, _, breakage, line, reason in BREAKAGES],
    ids=[label for _, label, *_ in BREAKAGES],
)
def test_a_malformed_file_fails_with_its_path_line_and_reason(
    tmp_path: Path, name: str, breakage: Breakage, line: int | None, reason: str
) -> None:
    path = _copy_list(tmp_path, name)
    read_code_list(path)  # the unbroken copy loads, so the error below comes from the breakage
    breakage(path)
    with pytest.raises(CodeListError) as caught:
        read_code_list(path)
    error = caught.value
    assert error.path == str(path)
    assert reason in error.reason
    assert str(path) in str(error)
    if line is not None:
        assert error.line == line
        assert f"line {line}" in str(error)
    else:
        assert error.line is not None


def test_a_broken_file_stops_the_whole_set_from_loading(tmp_path: Path) -> None:
    shutil.copytree(codelists_dir(), tmp_path, dirs_exist_ok=True)
    _replace_line(tmp_path / "countries.csv", 7, "AF,en,Afghanistan")
    with pytest.raises(CodeListError, match=r"countries\.csv, line 7: expected 6 fields"):
        CodeLists.load(tmp_path)


def test_a_missing_list_stops_the_set_from_loading(tmp_path: Path) -> None:
    shutil.copytree(codelists_dir(), tmp_path, dirs_exist_ok=True)
    (tmp_path / "pesticides.csv").unlink()
    with pytest.raises(CodeListError, match=r"missing code list file\(s\): pesticides\.csv"):
        CodeLists.load(tmp_path)


def test_a_missing_directory_is_a_code_list_error(tmp_path: Path) -> None:
    with pytest.raises(CodeListError, match="directory not found"):
        CodeLists.load(tmp_path / "nowhere")


def test_code_list_error_is_an_ephyto_error_with_a_stable_code() -> None:
    error = CodeListError("bad", path="x.csv", line=3)
    assert isinstance(error, EphytoError)
    assert error.code == "code_list"
    assert str(error) == "x.csv, line 3: bad"
