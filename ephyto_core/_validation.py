"""Certificate validation with the hub's ``ValidatePhytoXML`` semantics.

Three areas, as the hub reports them: ``Schema`` (the hub profile XSD, via lxml), then
``MandatoryElements`` and ``Mapping`` (what ISPM 12 requires beyond the permissive schema, and
code-list membership; :mod:`ephyto_core._certificate_rules`). A document is parsed once, with the
hardened parser, and the tree is handed back in a :class:`ValidationReport` so the hub does not
parse it again. Nothing here raises for bad input: an unparseable or hostile document is one
SEVERE ``Schema`` finding carrying the parser's reason.

Two paths give the same answer. The full path runs the hub profile's XSD and then the rules'
walk; it is what reports findings. Most certificates have none, and for them the fast path
(:mod:`ephyto_core._screen`: a narrower XSD with the code lists in it, plus a short Python pass)
shows that in about the time the hub profile's XSD alone takes, and skips the walk; anything it
cannot vouch for goes the full path. ``benchmarks/validation.py`` measures both.

Usage::

    validator = Validator(schemas=load_schema_set(), code_lists=default_code_lists())
    results = validator.validate(xml_bytes)
    if has_severe(results): ...
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from lxml import etree

from ephyto_core._certificate_rules import T_CERTIFICATE, CertificateRules
from ephyto_core._codelists import CodeLists, default_code_lists
from ephyto_core._errors import EphytoError
from ephyto_core._fieldpath import field_path, short_name
from ephyto_core._safexml import DEFAULT_LIMITS, XmlLimits, decode_content, parse_untrusted
from ephyto_core._schema_findings import SchemaChecker
from ephyto_core._schemas import SchemaSet, default_schema_set
from ephyto_core._screen import Screen
from ephyto_core._validation_result import Area, Level, ValidationResult, has_severe
from ephyto_core._validation_tables import CodeTables

__all__ = [
    "MAX_FINDINGS",
    "Area",
    "Level",
    "ValidationReport",
    "ValidationResult",
    "Validator",
    "default_validator",
    "has_severe",
]

#: A response listing more findings than this helps nobody and costs the hub bytes and time
#: (a hostile document can produce one per element); the rest are summarised in one finding.
MAX_FINDINGS: Final = 500


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The findings, and the parsed tree (``None`` if the input could not be parsed) so a
    caller that goes on to store or route the certificate need not parse it again."""

    results: tuple[ValidationResult, ...]
    root: etree._Element | None

    @property
    def has_severe(self) -> bool:
        return has_severe(self.results)


class Validator:
    """Validates certificates; build one per code-list set and reuse it (thread-safe)."""

    def __init__(
        self,
        *,
        schemas: SchemaSet,
        code_lists: CodeLists,
        limits: XmlLimits = DEFAULT_LIMITS,
        fast_path: bool = True,
    ) -> None:
        """``fast_path=False`` always takes the full path (hub XSD, then the rules): the same
        results, slower; for tests and for measuring what the fast path saves."""
        tables = CodeTables.from_code_lists(code_lists)
        self._schema = SchemaChecker(schemas.certificate)
        self._rules = CertificateRules(tables)
        self._screen = Screen(tables) if fast_path else None
        self._limits = limits

    def validate(
        self, xml: bytes | str | etree._Element, *, source: str = "ePhytoXML"
    ) -> list[ValidationResult]:
        """The findings for one certificate document; ``source`` names the input in a parse
        failure's ``field``."""
        return list(self.report(xml, source=source).results)

    def validate_content(
        self, content: str | bytes, *, source: str = "Content"
    ) -> list[ValidationResult]:
        """As :meth:`validate`, for an envelope ``Content`` (escaped, CDATA or base64)."""
        return list(self.report_content(content, source=source).results)

    def report(
        self, xml: bytes | str | etree._Element, *, source: str = "ePhytoXML"
    ) -> ValidationReport:
        """Findings plus the parsed tree. An element is validated as it is (it must come from
        :func:`~ephyto_core._safexml.parse_untrusted` or another trusted parse)."""
        if isinstance(xml, etree._Element):
            return self._check(xml)
        try:
            root = parse_untrusted(xml, limits=self._limits, field=source)
        except EphytoError as exc:
            return _refused(exc, source)
        return self._check(root)

    def report_content(self, content: str | bytes, *, source: str = "Content") -> ValidationReport:
        try:
            data = decode_content(content, limits=self._limits, field=source)
        except EphytoError as exc:
            return _refused(exc, source)
        return self.report(data, source=source)

    def _check(self, root: etree._Element) -> ValidationReport:
        if root.tag != T_CERTIFICATE:
            # The profile declares many global elements, so the XSD alone would accept e.g. a
            # lone ram:Name as a document; only a certificate is one.
            tag = root.tag if isinstance(root.tag, str) else "?"
            finding = ValidationResult(
                Area.SCHEMA,
                Level.SEVERE,
                field_path(root, root),
                f"Line {root.sourceline}: the document is a {short_name(tag)}; expected an "
                "rsm:SPSCertificate (urn:un:unece:uncefact:data:standard:SPSCertificate:17).",
            )
            return ValidationReport((finding,), root)
        if self._screen is not None and self._screen.clean(root):
            # Nothing to report: the screen schema (narrower than the hub profile) and its
            # Python pass have shown that the full path below would find nothing.
            return ValidationReport((), root)
        return ValidationReport(self._full(root), root)

    def _full(self, root: etree._Element) -> tuple[ValidationResult, ...]:
        """The hub profile's XSD findings, then the rules' findings, for a certificate."""
        results = self._schema.check(root)
        results.extend(self._rules.check(root))
        return _capped(results, root)


def _refused(exc: EphytoError, source: str) -> ValidationReport:
    finding = ValidationResult(Area.SCHEMA, Level.SEVERE, exc.field or source, exc.message)
    return ValidationReport((finding,), None)


def _capped(results: list[ValidationResult], root: etree._Element) -> tuple[ValidationResult, ...]:
    if len(results) <= MAX_FINDINGS:
        return tuple(results)
    kept, rest = results[: MAX_FINDINGS - 1], results[MAX_FINDINGS - 1 :]
    # The summary keeps the worst level of what it replaces, so has_severe() stays true.
    level = Level.SEVERE if has_severe(rest) else Level.WARNING
    summary = ValidationResult(
        Area.SCHEMA if all(r.area is Area.SCHEMA for r in rest) else rest[0].area,
        level,
        field_path(root, root),
        f"{len(rest)} further findings are not listed; correct the ones above and validate again.",
    )
    return (*kept, summary)


_per_thread = threading.local()


def default_validator() -> Validator:
    """A validator over the bundled schemas and code lists, built once per calling thread
    (matching :func:`~ephyto_core._schemas.default_schema_set`, so no thread waits on another)."""
    cached: Validator | None = getattr(_per_thread, "validator", None)
    if cached is None:
        cached = Validator(schemas=default_schema_set(), code_lists=default_code_lists())
        _per_thread.validator = cached
    return cached
