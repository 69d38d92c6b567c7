"""How the certificate rules read a value: the element's text without XML whitespace around it,
and what counts as a date, a number, a boolean. One definition, shared by the rules
(:mod:`ephyto_core._certificate_rules`) and the screen (:mod:`ephyto_core._screen`), so both
always read a value the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from lxml import etree

#: XML's whitespace: what XSD collapses and what the rules strip.
WS: Final = " \t\r\n"
BOOLEANS: Final = frozenset({"true", "false", "1", "0"})


def text_of(el: etree._Element | None) -> str:
    """The element's text (up to its first child), without surrounding XML whitespace."""
    if el is None:
        return ""
    text = el.text
    return text.strip(WS) if text else ""


def is_iso_datetime(value: str) -> bool:
    """ISO 8601 date or date-time (``2025-03-14``, ``2025-03-14T09:30:00+03:00``, ``…Z``)."""
    if len(value) < 10 or not value[:4].isdigit():
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def is_boolean(value: str) -> bool:
    return value.lower() in BOOLEANS
