"""The coded note subjects of the ePhyto mapping, and typed constructors for the common ones.

Notes are how ePhyto carries what the UN/CEFACT structure has no element for: additional
declarations, replacements, free-text packaging, the re-export box of ISPM 12… Each is a
``Subject`` code plus text; the constructors here keep callers from misspelling a code or
putting a trade-line note on the document.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from datetime import UTC, datetime

from ephyto_core.certificate.model import (
    REEXPORT_CERTIFICATE,
    Certificate,
    LineNote,
    Note,
    Text,
    TradeLineItem,
)


class DocumentNoteSubject(enum.StrEnum):
    """``IncludedSPSNote/Subject`` codes (document level)."""

    ADDITIONAL_DECLARATION = "ADEDL"
    IMPORT_PERMIT = "ADIPEDL"
    INSPECTION_DATE = "ADDIEDL"
    ADDITIONAL_OFFICIAL_INFORMATION = "ADAOEDL"
    DISTINGUISHING_MARKS = "DMCL"
    STATEMENT = "SPSFL"
    REPLACEMENT_STATEMENT = "ADRP"
    REPLACED_NUMBER = "ADRPN"
    REPLACEMENT_REASON = "ADRPR"
    REPLACED_DATE = "ADRD"


class LineNoteSubject(enum.StrEnum):
    """``AdditionalInformationSPSNote/Subject`` codes (trade-line level)."""

    PACKAGING_FREE_TEXT = "OPTND"
    OTHER_QUANTITY_VALUE = "OQV"
    OTHER_QUANTITY_UNIT = "OQU"
    DISTINGUISHING_MARKS = "DMTLIL"
    ADDITIONAL_DECLARATION = "ADTLIL"
    IMPORT_PERMIT = "ADIPTLIL"
    INSPECTION_DATE = "ADDITLIL"
    ADDITIONAL_OFFICIAL_INFORMATION = "ADAOTLIL"
    # Re-export (657 only). Meanings follow the boxes of the ISPM 12 re-export model
    # certificate, matched to the codes by their order and values in the hub's sample (inferred).
    REEXPORT_STATEMENT = "RPCST"
    REEXPORT_ORIGIN_COUNTRY = "RPCCO"
    REEXPORT_ORIGINAL_CERTIFICATE_NUMBER = "RPCRF"
    REEXPORT_ORIGINAL_ATTACHED = "RPCOR"
    REEXPORT_CERTIFIED_COPY_ATTACHED = "RPCTC"
    REEXPORT_PACKED = "RPCPK"
    REEXPORT_REPACKED = "RPCRP"
    REEXPORT_ORIGINAL_CONTAINERS = "RPCOC"
    REEXPORT_NEW_CONTAINERS = "RPCNC"
    REEXPORT_BASED_ON_ORIGINAL_CERTIFICATE = "RPCPC"
    REEXPORT_ADDITIONAL_INSPECTION = "RPCAI"


REEXPORT_SUBJECTS: frozenset[str] = frozenset(
    s.value for s in LineNoteSubject if s.value.startswith("RPC")
)
REPLACEMENT_SUBJECTS: frozenset[str] = frozenset(
    {
        DocumentNoteSubject.REPLACEMENT_STATEMENT,
        DocumentNoteSubject.REPLACED_NUMBER,
        DocumentNoteSubject.REPLACEMENT_REASON,
        DocumentNoteSubject.REPLACED_DATE,
    }
)


def _note(subject: DocumentNoteSubject, value: str, language: str | None = None) -> Note:
    return Note(subject=subject.value, content=Text(value=value, language=language))


def _line_note(subject: LineNoteSubject, value: str, language: str | None = None) -> LineNote:
    return LineNote(subject=subject.value, contents=(Text(value=value, language=language),))


# --- document level ------------------------------------------------------------------------------


def additional_declaration(text: str, *, language: str | None = "en") -> Note:
    """An ``ADEDL`` note; one per language for a multilingual declaration."""
    return _note(DocumentNoteSubject.ADDITIONAL_DECLARATION, text, language)


def additional_official_information(text: str, *, language: str | None = "en") -> Note:
    return _note(DocumentNoteSubject.ADDITIONAL_OFFICIAL_INFORMATION, text, language)


def import_permit(number: str) -> Note:
    return _note(DocumentNoteSubject.IMPORT_PERMIT, number)


def inspection_date(text: str) -> Note:
    """``ADDIEDL``: free text, as senders write dates and ranges loosely ("May 1, 2 2020")."""
    return _note(DocumentNoteSubject.INSPECTION_DATE, text)


def distinguishing_marks(text: str) -> Note:
    return _note(DocumentNoteSubject.DISTINGUISHING_MARKS, text)


def statement(code: str) -> Note:
    """``SPSFL``: a statement from the hub's ``GetStatements`` list, by code."""
    return _note(DocumentNoteSubject.STATEMENT, code)


def notes_about(notes: Iterable[Note], subject: str) -> tuple[Note, ...]:
    """The notes with this subject, in document order."""
    return tuple(note for note in notes if note.subject == subject)


# --- trade-line level ----------------------------------------------------------------------------


def packaging_note(*texts: str | Text) -> LineNote:
    """``OPTND``: packaging as free text, the alternative to ``PhysicalSPSPackage`` (one or the
    other on a line). One note per line: give each language version as a :class:`Text`; a plain
    string carries no ``languageID``."""
    if not texts:
        raise ValueError("an OPTND packaging note needs at least one text")
    return LineNote(
        subject=LineNoteSubject.PACKAGING_FREE_TEXT.value,
        contents=tuple(t if isinstance(t, Text) else Text(value=t) for t in texts),
    )


def other_quantity(value: str, unit: str) -> tuple[LineNote, LineNote]:
    """``OQV`` + ``OQU``: a quantity the measures cannot express ("33", "Units")."""
    return (
        _line_note(LineNoteSubject.OTHER_QUANTITY_VALUE, value),
        _line_note(LineNoteSubject.OTHER_QUANTITY_UNIT, unit),
    )


def line_additional_declaration(text: str, *, language: str | None = "en") -> LineNote:
    return _line_note(LineNoteSubject.ADDITIONAL_DECLARATION, text, language)


def line_distinguishing_marks(text: str) -> LineNote:
    return _line_note(LineNoteSubject.DISTINGUISHING_MARKS, text)


# --- re-export (657) -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReexportDetails:
    """The re-export box of ISPM 12: where the goods came from and how they were handled."""

    origin_country_id: str
    original_certificate_number: str
    original_attached: bool
    certified_copy_attached: bool
    packed: bool
    repacked: bool
    original_containers: bool
    new_containers: bool
    based_on_original_certificate: bool
    additional_inspection: bool
    statement: str | None = None


# Flags as the hub's sample writes them: the strings "True" / "False".
_REEXPORT_FLAGS: tuple[tuple[LineNoteSubject, str], ...] = (
    (LineNoteSubject.REEXPORT_ORIGINAL_ATTACHED, "original_attached"),
    (LineNoteSubject.REEXPORT_CERTIFIED_COPY_ATTACHED, "certified_copy_attached"),
    (LineNoteSubject.REEXPORT_PACKED, "packed"),
    (LineNoteSubject.REEXPORT_REPACKED, "repacked"),
    (LineNoteSubject.REEXPORT_ORIGINAL_CONTAINERS, "original_containers"),
    (LineNoteSubject.REEXPORT_NEW_CONTAINERS, "new_containers"),
    (LineNoteSubject.REEXPORT_BASED_ON_ORIGINAL_CERTIFICATE, "based_on_original_certificate"),
    (LineNoteSubject.REEXPORT_ADDITIONAL_INSPECTION, "additional_inspection"),
)


def reexport_notes(details: ReexportDetails) -> tuple[LineNote, ...]:
    """The ``RPC*`` trade-line notes for ``details`` (valid only on a 657 certificate)."""
    notes = []
    if details.statement is not None:
        notes.append(_line_note(LineNoteSubject.REEXPORT_STATEMENT, details.statement))
    notes.append(_line_note(LineNoteSubject.REEXPORT_ORIGIN_COUNTRY, details.origin_country_id))
    notes.append(
        _line_note(
            LineNoteSubject.REEXPORT_ORIGINAL_CERTIFICATE_NUMBER,
            details.original_certificate_number,
        )
    )
    for subject, attribute in _REEXPORT_FLAGS:
        notes.append(_line_note(subject, "True" if getattr(details, attribute) else "False"))
    return tuple(notes)


def reexport_details(line: TradeLineItem) -> ReexportDetails | None:
    """The re-export details a line carries, or ``None`` if it lacks the country or number."""
    values = {
        note.subject: note.contents[0].value
        for note in line.additional_notes
        if note.subject in REEXPORT_SUBJECTS and note.contents
    }
    origin = values.get(LineNoteSubject.REEXPORT_ORIGIN_COUNTRY)
    number = values.get(LineNoteSubject.REEXPORT_ORIGINAL_CERTIFICATE_NUMBER)
    if origin is None or number is None:
        return None
    flags = {
        attribute: values.get(subject, "").strip().lower() == "true"
        for subject, attribute in _REEXPORT_FLAGS
    }
    return ReexportDetails(
        origin_country_id=origin,
        original_certificate_number=number,
        statement=values.get(LineNoteSubject.REEXPORT_STATEMENT),
        **flags,
    )


def with_reexport_details(cert: Certificate, details: ReexportDetails) -> Certificate:
    """``cert`` with ``details`` on every trade line (replacing any earlier ``RPC*`` notes).

    Raises ``ValueError`` unless ``cert`` is a re-export certificate (657).
    """
    if cert.document.type_code != REEXPORT_CERTIFICATE:
        raise ValueError(
            f"re-export notes belong on a {REEXPORT_CERTIFICATE} certificate, "
            f"not on a {cert.document.type_code}"
        )
    extra = reexport_notes(details)
    lines = tuple(
        dataclasses.replace(
            line,
            additional_notes=tuple(
                n for n in line.additional_notes if n.subject not in REEXPORT_SUBJECTS
            )
            + extra,
        )
        for line in cert.consignment.trade_line_items
    )
    return dataclasses.replace(
        cert, consignment=dataclasses.replace(cert.consignment, trade_line_items=lines)
    )


# --- replacement ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Replacement:
    """Which certificate this one replaces, when that one was issued, and why."""

    replaced_number: str
    replaced_date: datetime | None = None
    reason: Text | None = None
    statement: str | None = None


def replacement_notes(replacement: Replacement) -> tuple[Note, ...]:
    """``ADRP`` (if a statement is given), ``ADRPN``, ``ADRPR``, ``ADRD`` in that order."""
    notes = []
    if replacement.statement is not None:
        notes.append(_note(DocumentNoteSubject.REPLACEMENT_STATEMENT, replacement.statement))
    notes.append(_note(DocumentNoteSubject.REPLACED_NUMBER, replacement.replaced_number))
    if replacement.reason is not None:
        notes.append(
            Note(subject=DocumentNoteSubject.REPLACEMENT_REASON.value, content=replacement.reason)
        )
    if replacement.replaced_date is not None:
        if replacement.replaced_date.utcoffset() is None:
            raise ValueError("replaced_date must be timezone-aware")
        notes.append(
            _note(DocumentNoteSubject.REPLACED_DATE, replacement.replaced_date.isoformat())
        )
    return tuple(notes)


def mark_replacing(cert: Certificate, replacement: Replacement) -> Certificate:
    """``cert`` declared as the replacement of another certificate (earlier replacement notes
    are dropped, so marking twice keeps only the last)."""
    kept = tuple(n for n in cert.document.notes if n.subject not in REPLACEMENT_SUBJECTS)
    document = dataclasses.replace(cert.document, notes=kept + replacement_notes(replacement))
    return dataclasses.replace(cert, document=document)


def replacement_of(cert: Certificate) -> Replacement | None:
    """What ``cert`` replaces, read from its notes; ``None`` if it has no ``ADRPN``."""
    found = {n.subject: n.content for n in cert.document.notes if n.subject in REPLACEMENT_SUBJECTS}
    number = found.get(DocumentNoteSubject.REPLACED_NUMBER)
    if number is None:
        return None
    date_text = found.get(DocumentNoteSubject.REPLACED_DATE)
    statement_text = found.get(DocumentNoteSubject.REPLACEMENT_STATEMENT)
    return Replacement(
        replaced_number=number.value,
        replaced_date=_parse_date(date_text.value) if date_text else None,
        reason=found.get(DocumentNoteSubject.REPLACEMENT_REASON),
        statement=statement_text.value if statement_text else None,
    )


def _parse_date(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # Same rule as the reader: a date without an offset is taken as UTC.
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


# --- checks --------------------------------------------------------------------------------------


def note_problems(cert: Certificate) -> tuple[str, ...]:
    """Where the coded notes contradict the certificate: ``RPC*`` notes on a certificate that is
    not a re-export, a line with both ``OPTND`` and ``PhysicalSPSPackage`` or with neither."""
    problems = []
    is_reexport = cert.document.type_code == REEXPORT_CERTIFICATE
    for line in cert.consignment.trade_line_items:
        subjects = {note.subject for note in line.additional_notes}
        where = f"trade line {line.sequence}"
        if not is_reexport and subjects & REEXPORT_SUBJECTS:
            problems.append(
                f"{where}: re-export notes ({', '.join(sorted(subjects & REEXPORT_SUBJECTS))}) "
                f"on a {cert.document.type_code} certificate"
            )
        has_free_text = LineNoteSubject.PACKAGING_FREE_TEXT in subjects
        if has_free_text and line.packages:
            problems.append(f"{where}: both OPTND packaging text and PhysicalSPSPackage")
        elif not has_free_text and not line.packages:
            problems.append(f"{where}: neither OPTND packaging text nor PhysicalSPSPackage")
    return tuple(problems)
