"""``ephyto validate --explain``: a second opinion on schema faults from xmlschema.

libxml2 (the hub's validator) stops checking an element's children at the first fault in them;
xmlschema keeps going and says what it expected, so one run shows every fault to fix. It is
30-50x slower than libxml2, which is why it runs only here, on request, never in the hub.
Its findings are added as ``Schema``/``INFO``: they explain, they do not change the verdict.
"""

from __future__ import annotations

from typing import Final

import xmlschema
from lxml import etree

from ephyto_core._fieldpath import field_path
from ephyto_core._paths import xsd_dir
from ephyto_core._schemas import ENTRY_FILE
from ephyto_core._validation_result import Area, Level, ValidationResult

MAX_EXPLANATIONS: Final = 100


def explain_schema_findings(
    root: etree._Element, results: tuple[ValidationResult, ...]
) -> tuple[ValidationResult, ...]:
    """``results`` followed by xmlschema's findings on the same tree."""
    # "sandbox": the schema may import only files from its own folder, never from the network.
    schema = xmlschema.XMLSchema(str((xsd_dir() / ENTRY_FILE).resolve()), allow="sandbox")
    resource = xmlschema.XMLResource(root, allow="none")
    extra: list[ValidationResult] = []
    for error in schema.iter_errors(resource):
        if len(extra) == MAX_EXPLANATIONS:
            break
        element = error.elem if isinstance(error.elem, etree._Element) else None
        field = field_path(element, root) if element is not None else str(error.path or "/")
        line = f"Line {error.sourceline}: " if error.sourceline else ""
        extra.append(
            ValidationResult(
                Area.SCHEMA, Level.INFO, field, f"{line}xmlschema explains: {error.reason}"
            )
        )
    return (*results, *extra)
