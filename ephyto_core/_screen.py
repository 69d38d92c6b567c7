"""The fast answer for a clean certificate: the screen schema plus a short Python pass.

:meth:`Screen.clean` returns True only when the full validation (hub profile XSD and
:class:`~ephyto_core._certificate_rules.CertificateRules`) would report nothing at all; then the
validator skips both. Anything else, a fault or just an unusual shape, returns False and the
validator runs the full path, which says what is wrong and where. So the screen may be cautious
(False for a certificate that is in fact clean costs time, not correctness) but never wrong the
other way; the tests check that on every corpus certificate and on mutations of them.

What the screen schema (:mod:`ephyto_core._screen_schema`) cannot say is checked here, on a tree
the schema has accepted, so its shape is known: required children are present and in schema
order, which lets the pass read ``note[0]`` as the subject instead of searching for it. Comments,
processing instructions and entity references are refused first: the rules read an element's
text up to its first child node, the schema reads all of it, and without those nodes the two are
the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree

from ephyto_core._certificate_rules import (
    CHARACTERISTIC_UNITS,
    FREE_TEXT_TREATMENT,
    PACKAGING_NOTE,
    REEXPORT,
    REPLACED_NUMBER,
    REPLACEMENT,
    REPLACEMENT_PARTS,
    T_CHARACTERISTIC,
    T_CLASSIFICATION,
    T_LINE_NOTE,
    T_NOTE,
    T_PACKAGE,
)
from ephyto_core._namespaces import RAM
from ephyto_core._schema_findings import release_error_log
from ephyto_core._screen_schema import compile_screen
from ephyto_core._validation_tables import Codes, CodeTables, only_on
from ephyto_core._values import is_boolean, is_iso_datetime, is_number, text_of

#: Nodes that would make an element's ``.text`` (what the rules read) differ from its text
#: content (what XSD checks); the parser never makes entity references, other trees might.
_NOT_TEXT: Final = (etree.Comment, etree.ProcessingInstruction, etree.Entity)


def _units_of(units: Codes, kind: str) -> frozenset[str]:
    """Active units the rules accept where a unit of ``kind`` is needed (``""``: any)."""
    return frozenset(
        code for code in units.active if not kind or units.column(code, "type") in ("", kind)
    )


def _of_level(types: Codes, level: str) -> frozenset[str]:
    return frozenset(c for c in types.active if types.column(c, "level") in ("", level))


@dataclass(frozen=True, slots=True)
class ScreenTables:
    """What the rules accept without a finding, for documents of one type, as sets."""

    document_subjects: Mapping[str, str]
    line_subjects: Mapping[str, str]
    treatment_subjects: Mapping[str, str]
    #: value kind (of the note-subject list) → the test the rules apply to such a value
    value_checks: Mapping[str, Callable[[str], bool]]
    characteristic_units: Mapping[str, frozenset[str]]
    any_unit: frozenset[str]
    classifications: Mapping[str, frozenset[str]]
    treatment_types: frozenset[str]
    level1_types: frozenset[str]
    level2_types: frozenset[str]
    parents: Mapping[str, str]

    @classmethod
    def build(cls, tables: CodeTables, type_code: str) -> ScreenTables:
        subjects = tables.note_subjects

        def accepted(scope: str) -> dict[str, str]:
            return {
                code: subjects.column(code, "value_kind")
                for code in subjects.active
                if subjects.column(code, "scope") in ("", scope)
                and only_on(subjects, code) in ("", type_code)
            }

        statements = frozenset(
            c for c in tables.statements.active if only_on(tables.statements, c) in ("", type_code)
        )
        types = tables.treatment_types
        return cls(
            document_subjects=accepted("document"),
            line_subjects=accepted("trade_line"),
            treatment_subjects=accepted("treatment"),
            value_checks={
                "text": lambda value: True,
                "statement": statements.__contains__,
                "country": tables.countries.active.__contains__,
                "pesticide": tables.pesticides.active.__contains__,
                "date": is_iso_datetime,
                "number": is_number,
                "boolean": is_boolean,
            },
            characteristic_units={
                code: _units_of(tables.units, kind) for code, kind in CHARACTERISTIC_UNITS.items()
            },
            any_unit=_units_of(tables.units, ""),
            classifications={
                "IPPCPCVP": tables.product_descriptions.active,
                "IPPCPCC": tables.conditions.active,
            },
            treatment_types=types.active,
            level1_types=_of_level(types, "1"),
            level2_types=_of_level(types, "2"),
            parents={c: types.column(c, "parent_code") for c in types.active},
        )


class Screen:
    """Decides "nothing to report" for a certificate, or declines to."""

    def __init__(self, tables: CodeTables) -> None:
        self._tables = tables
        self._checks = {t: ScreenTables.build(tables, t) for t in tables.certificate_types.active}
        # A compiled schema records the errors of its last run on itself, and lxml serialises
        # threads sharing a compiled XPath: one of each per thread (compiling takes ~5 ms).
        self._local = threading.local()

    def _compiled(self) -> tuple[etree.XMLSchema, _Queries]:
        compiled: tuple[etree.XMLSchema, _Queries] | None = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = (compile_screen(self._tables), _Queries())
        return compiled

    def clean(self, root: etree._Element) -> bool:
        """True only if validating ``root`` in full would find nothing to report."""
        if next(root.iter(*_NOT_TEXT), None) is not None:
            return False
        schema, queries = self._compiled()
        if not schema.validate(root):
            # The full path validates again and reports; this run's errors only hold memory.
            release_error_log(schema)
            return False
        # The schema fixes the document's first children: [Name] ID TypeCode StatusCode
        # IssueDateTime, and of these only IssueDateTime has a child element.
        document = root[0]
        type_code = (document[1] if len(document[3]) else document[2]).text or ""
        checks = self._checks.get(type_code)
        return checks is not None and _residue_clean(root, checks, type_code, queries)


class _Queries:
    """Counts that XPath gets faster than Python; compiled per thread, as lxml wants."""

    def __init__(self) -> None:
        namespaces = {"ram": RAM}
        lines = "ram:IncludedSPSConsignmentItem/ram:IncludedSPSTradeLineItem"
        self.lines_without_packages = etree.XPath(
            f"count({lines}[not(ram:PhysicalSPSPackage)])", namespaces=namespaces
        )
        self.treatments = etree.XPath(
            f"count({lines}/ram:AppliedSPSProcess)", namespaces=namespaces
        )


def _residue_clean(
    root: etree._Element, t: ScreenTables, type_code: str, queries: _Queries
) -> bool:
    """The rules the screen schema cannot express, on a tree it has accepted.

    Written for speed (it runs on every clean certificate): each kind of element is fetched in
    its own document walk in C (``iter(tag)``), so no ``.tag`` is read in Python, and codes are
    looked up as written, so a code with whitespace around it, which the rules would strip and
    accept, answers False here and takes the full path: slower, never wrong.
    """
    document, consignment = root[0], root[1]
    # IssueDateTime is the first child with a child (see Screen.clean); the signatory comes
    # last and its ActualDateTime first.
    issued = document[3] if len(document[3]) else document[4]
    signed = document[len(document) - 1][0]
    if not (is_iso_datetime(text_of(issued[0])) and is_iso_datetime(text_of(signed[0]))):
        return False
    subjects: set[str] = set()
    for note in document.iterchildren(T_NOTE):
        subject = note[0].text or ""
        subjects.add(subject)
        kind = t.document_subjects.get(subject)
        if kind != "text" and (kind is None or not _value_ok(t, kind, note)):
            return False
    if REPLACEMENT in subjects:
        if REPLACED_NUMBER not in subjects:
            return False
    elif not subjects.isdisjoint(REPLACEMENT_PARTS):
        return False
    reexport = _line_notes_clean(consignment, t, queries)
    if reexport is None or not _classifications_clean(consignment, t):
        return False
    if not _treatments_clean(consignment, t, queries):
        return False
    return reexport or type_code != REEXPORT


def _line_notes_clean(
    consignment: etree._Element, t: ScreenTables, queries: _Queries
) -> bool | None:
    """None if a trade-line note, or a line's packaging, would be reported; else whether any
    line has a re-export (RPC*) note."""
    line_subjects = t.line_subjects
    value_checks = t.value_checks
    reexport = False
    packaging_notes: list[etree._Element] = []
    for note in consignment.iter(T_LINE_NOTE):
        subject = note[0].text or ""
        kind = line_subjects.get(subject)
        if kind != "text":
            if kind is None:
                return None
            # The rules read the first Content, or the note itself when it has none.
            check = value_checks.get(kind)
            value = (note[1] if len(note) > 1 else note).text or ""
            if check is None or not check(value):
                return None
        if subject == PACKAGING_NOTE:
            packaging_notes.append(note)
        elif subject[:3] == "RPC":
            reexport = True
    # Each line: packages, or exactly one free-text packaging note (OPTND); not both.
    without_packages = int(queries.lines_without_packages(consignment))  # type: ignore[arg-type]
    if packaging_notes:
        lines = {note.getparent() for note in packaging_notes}
        if len(lines) != len(packaging_notes) or len(lines) != without_packages:
            return None
        if any(next(line.iterchildren(T_PACKAGE), None) is not None for line in lines):  # type: ignore[union-attr]
            return None
    elif without_packages:
        return None
    return reexport


def _classifications_clean(consignment: etree._Element, t: ScreenTables) -> bool:
    classifications = t.classifications
    for classification in consignment.iter(T_CLASSIFICATION):
        codes = classifications.get(classification[0].text)  # type: ignore[arg-type]
        if codes is not None and classification[1].text not in codes:
            return False
    return True


def _treatments_clean(consignment: etree._Element, t: ScreenTables, queries: _Queries) -> bool:
    """Every characteristic as the rules want it, and a TTFT one in every treatment.

    Shortcuts, each erring on the side of False: the value of a characteristic is its second
    child, which the rules read only when it is a Description (if it is the ValueMeasure, a
    check here fails or agrees with the rules, which check nothing); the unit of a measured
    characteristic is its last child's, which, if that is a Description, has no unitCode and
    fails. A TTL2 type is compared with the last TTL1 before it in the document: the rules use
    the one before it in the same treatment, the same unless that treatment has none, and then
    they check no parent at all.
    """
    subjects = t.treatment_subjects
    value_checks = t.value_checks
    level1_types, level2_types, parents = t.level1_types, t.level2_types, t.parents
    level1 = ""
    with_free_text = set()
    seen = False
    for characteristic in consignment.iter(T_CHARACTERISTIC):
        seen = True
        code = characteristic[0].text or ""
        kind = subjects.get(code)
        if kind == "text":
            if code == FREE_TEXT_TREATMENT:
                with_free_text.add(characteristic.getparent())
            continue
        if kind is None:
            return False
        size = len(characteristic)
        if kind == "measure":
            units = t.characteristic_units.get(code, t.any_unit)
            if characteristic[size - 1].get("unitCode") not in units:
                return False
            continue
        if size < 2:
            continue
        value = characteristic[1].text or ""
        if kind != "treatment_type":
            check = value_checks.get(kind)
            if check is None or not check(value):
                return False
        elif code == "TTL1":
            if value not in level1_types:
                return False
            level1 = value
        elif code == "TTL2":
            parent = parents.get(value, "")
            if value not in level2_types or (level1 and parent and parent != level1):
                return False
        elif value not in t.treatment_types:
            return False
    if not with_free_text:
        # No TTFT anywhere: clean only if there is no treatment at all. Every treatment has a
        # characteristic (the schema says so), so one seen above means one without TTFT.
        return not seen
    return len(with_free_text) == int(queries.treatments(consignment))  # type: ignore[arg-type]


def _value_ok(t: ScreenTables, kind: str, note: etree._Element) -> bool:
    # The rules read the first Content, or the note itself when it has none.
    value = text_of(note[1] if len(note) > 1 else note)
    check = t.value_checks.get(kind)
    return check is not None and check(value)
