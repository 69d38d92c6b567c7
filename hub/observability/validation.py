"""A validator that counts its findings for `ephyto_validation_results_total`."""

from lxml import etree

from ephyto_core._validation import Level, ValidationReport, Validator
from hub.observability.metrics import VALIDATION_RESULTS, VALIDATIONS


class ObservedValidator(Validator):
    """The core validator, plus one counter per finding (area, level) and one per verdict.

    `report` is where every entry point (`validate`, `validate_content`, `report_content`)
    ends up, so each certificate is counted once.
    """

    def report(
        self, xml: bytes | str | etree._Element, *, source: str = "ePhytoXML"
    ) -> ValidationReport:
        result = super().report(xml, source=source)
        for finding in result.results:
            VALIDATION_RESULTS.labels(area=str(finding.area), level=str(finding.level)).inc()
        levels = {finding.level for finding in result.results}
        verdict = (
            "severe"
            if Level.SEVERE in levels
            else "warnings"
            if Level.WARNING in levels
            else "clean"
        )
        VALIDATIONS.labels(verdict=verdict).inc()
        return result
