"""The fast path never hides a finding.

For a clean certificate the validator skips the hub profile's XSD and the rules' walk, on the word
of the screen schema and its Python pass. These tests damage valid certificates one change at a
time (values, codes, whitespace, comments, removed and repeated elements, attributes, and the
schema mutations of ``tests.core.mutations``) and check, for every damaged copy the screen calls
clean, that the full path indeed finds nothing, and for every other copy that both paths agree.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from lxml import etree

from ephyto_core._codelists import default_code_lists
from ephyto_core._schemas import default_schema_set
from ephyto_core._screen import Screen
from ephyto_core._validation import Validator
from ephyto_core._validation_tables import CodeTables
from ephyto_core.certificate import REEXPORT_CERTIFICATE, build_certificate_xml
from tests.conftest import REPO_ROOT
from tests.core.factories import make_certificate, make_typical
from tests.core.mutations import mutations

#: Replacement texts: blanks, padding, case, and codes of every list the rules consult, so a
#: value moves from one list to another (a country where a unit belongs, a retired statement…).
TEXTS = (
    "",
    "  ",
    "XX",
    "0",
    "2",
    "3",
    "9",
    "99",
    "657",
    "851",
    "40",
    "KGM",
    "MTQ",
    "CEL",
    "HUR",
    "CT",
    "BE",
    "CHT",
    "FUM",
    "CLD",
    "110",
    "TTFT",
    "TTL1",
    "TTL2",
    "TTTM",
    "OPTND",
    "OQV",
    "RPCCO",
    "ADRP",
    "ADRPN",
    "DMTLIL",
    "FRESH",
    "FRUITS",
    "PLANTING",
    "true",
    "maybe",
    "2025-13-45",
    "2025-03-14",
)
ATTRIBUTE_VALUES = ("", " KGM", "MTQ", "HUR", "CEL", "XYZ")


def _variants(root: etree._Element, every: int) -> Iterator[tuple[str, etree._Element]]:
    elements = list(root.iter(etree.Element))
    for index, element in enumerate(elements):
        if index % every:
            continue
        position = f"#{index} {etree.QName(element).localname}"

        def copy_of(index: int = index) -> tuple[etree._Element, etree._Element]:
            clone = copy.deepcopy(root)
            return clone, list(clone.iter(etree.Element))[index]

        if len(element) == 0:
            original = element.text or ""
            for text in (*TEXTS, f" {original} ", original.lower()):
                clone, target = copy_of()
                target.text = text
                yield f"{position} text={text!r}", clone
        for name in element.attrib:
            for value in (*ATTRIBUTE_VALUES, None):
                clone, target = copy_of()
                if value is None:
                    del target.attrib[name]
                else:
                    target.set(name, value)
                yield f"{position} @{name!s}={value!r}", clone
        if element is not root:
            clone, target = copy_of()
            target.getparent().remove(target)  # type: ignore[union-attr]
            yield f"{position} removed", clone
            clone, target = copy_of()
            target.addnext(copy.deepcopy(target))
            yield f"{position} repeated", clone
        clone, target = copy_of()
        target.insert(0, etree.Comment("c"))
        yield f"{position} comment", clone


BASES = {
    "example 851": (REPO_ROOT / "schemas" / "examples" / "phyto-851.xml").read_bytes(),
    "657 replacing another": build_certificate_xml(
        make_certificate(seed=6, type_code=REEXPORT_CERTIFICATE, replacement_of="NL-2025-0000006")
    ),
    "free-text packaging": build_certificate_xml(
        make_certificate(seed=5, n_lines=2, free_text_packaging=True, languages=("en", "es"))
    ),
    "typical": build_certificate_xml(make_typical(seed=2)),
}


@pytest.fixture(scope="module")
def screen() -> Screen:
    return Screen(CodeTables.from_code_lists(default_code_lists()))


@pytest.fixture(scope="module")
def full_path() -> Validator:
    return Validator(schemas=default_schema_set(), code_lists=default_code_lists(), fast_path=False)


@pytest.fixture(scope="module")
def fast_path() -> Validator:
    return Validator(schemas=default_schema_set(), code_lists=default_code_lists())


@pytest.mark.parametrize("base", list(BASES))
def test_screen_calls_clean_only_what_the_full_path_finds_clean(
    base: str, screen: Screen, full_path: Validator
) -> None:
    root = etree.fromstring(BASES[base])
    assert screen.clean(root)
    hidden: list[str] = []
    clean = checked = 0
    # The generated certificates have hundreds of elements: a sample of them keeps this quick.
    for label, mutant in _variants(root, every=1 if base == "example 851" else 7):
        checked += 1
        if screen.clean(mutant):
            clean += 1
            findings = full_path.validate(mutant)
            if findings:
                hidden.append(f"{label}: {findings[0].level} {findings[0].field} {findings[0].msg}")
    assert hidden == []
    # Both kinds occur: harmless changes (free text, a valid code for another) stay clean.
    assert 0 < clean < checked


def test_schema_mutations_never_pass_the_screen_when_the_hub_schema_refuses(
    screen: Screen, full_path: Validator
) -> None:
    root = etree.fromstring(BASES["example 851"])
    hidden = [
        f"{m.kind} at {m.where}"
        for m in mutations(root)
        if screen.clean(m.root) and full_path.validate(m.root)
    ]
    assert hidden == []


@pytest.mark.parametrize("base", ["example 851", "657 replacing another"])
def test_both_paths_give_the_same_findings(
    base: str, fast_path: Validator, full_path: Validator
) -> None:
    root = etree.fromstring(BASES[base])
    differ = [
        label
        for label, mutant in _variants(root, every=3 if base == "example 851" else 11)
        if fast_path.validate(mutant) != full_path.validate(mutant)
    ]
    assert differ == []


def test_xsi_type_with_a_screen_type_name_takes_the_full_path(screen: Screen) -> None:
    """The hub profile knows none of the screen's type names; a document naming one must not
    be called clean on the screen's word."""
    root = etree.fromstring(BASES["example 851"])
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    document = root[0]
    document.set(f"{{{xsi}}}type", "ram:SPSExchangedDocumentType")
    assert screen.clean(root)  # the one type name both schemas share
    names = ("ram:TextType", "ram:NonEmpty", "ram:NonEmptyText", "ram:Named", "ram:CountryCode",
             "ram:WeightUnit", "ram:SPSConsignmentType", "xs:string", "xs:token")  # fmt: skip
    for name in names:
        clone = copy.deepcopy(root)
        clone[1][0][0].set(f"{{{xsi}}}type", name)  # ConsignorSPSParty/Name
        assert not screen.clean(clone), name


@pytest.mark.slow
@pytest.mark.parametrize("base", list(BASES))
def test_screen_soundness_on_every_element(base: str, screen: Screen, full_path: Validator) -> None:
    """The exhaustive version of the sampled test above (a few minutes)."""
    root = etree.fromstring(BASES[base])
    hidden = [
        label
        for label, mutant in _variants(root, every=1)
        if screen.clean(mutant) and full_path.validate(mutant)
    ]
    assert hidden == []
