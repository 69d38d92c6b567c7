"""XSD validation with lxml, its error log turned into ``Schema`` findings with a place.

lxml (libxml2) is the only schema engine on the hot path: it is 30-50x faster than xmlschema on
the same documents. libxml2 reports each fault with a line and a node path written with the
sender's prefixes; both are kept — the path resolved to our canonical field path, the line in
the message — so the sender can find the fault in the file they sent.
"""

import re
import threading
from collections.abc import Sequence
from itertools import islice
from typing import Final, Protocol, cast

from lxml import etree

from ephyto_core._fieldpath import field_path, resolve_libxml_path, shorten_names
from ephyto_core._validation_result import Area, Level, ValidationResult

#: A hostile or badly broken document can produce thousands of schema errors; past this many,
#: more of them tell the sender nothing new and only cost time and bytes in the response.
MAX_SCHEMA_FINDINGS: Final = 100

# libxml2 starts each message with the element it is about; the field path says that already.
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")


class _LogEntry(Protocol):
    # lxml's _LogEntry, which lxml-stubs leave undeclared.
    path: str | None
    line: int
    message: str


class _ClearableLog(Protocol):
    # lxml's validators (cpdef, since lxml 2; lxml-stubs leave it undeclared).
    def _clear_error_log(self) -> None: ...


def release_error_log(validator: etree._Validator) -> None:
    """Drop the entries of ``validator``'s last run, which it otherwise keeps until the next one.

    lxml logs every XSD error as an object with its message and node path, ~740 bytes apiece:
    a hostile document's 200,000 errors held 150 MB for as long as nothing else was validated.
    """
    cast(_ClearableLog, validator)._clear_error_log()


class SchemaChecker:
    """Runs one compiled ``XMLSchema`` and reads its error log.

    An ``XMLSchema`` object keeps the log of its last run on itself, so two threads validating
    with the same object would read each other's errors; the lock keeps run-and-read atomic.
    """

    def __init__(self, schema: etree.XMLSchema) -> None:
        self._schema = schema
        self._lock = threading.Lock()

    def check(self, root: etree._Element) -> list[ValidationResult]:
        with self._lock:
            if self._schema.validate(root):
                return []
            # A shallow copy: the entries stay alive until this method returns, no longer.
            log = cast("Sequence[_LogEntry]", self._schema.error_log)
            release_error_log(self._schema)
        count = len(log)
        entries = [(e.path, e.line, e.message) for e in islice(log, MAX_SCHEMA_FINDINGS)]
        del log
        findings = [_finding(root, *entry) for entry in entries]
        if count > MAX_SCHEMA_FINDINGS:
            findings.append(
                ValidationResult(
                    Area.SCHEMA,
                    Level.SEVERE,
                    field_path(root, root),
                    f"{count - MAX_SCHEMA_FINDINGS} further schema errors are not "
                    "listed; correct the ones above and validate again.",
                )
            )
        return findings


def _finding(root: etree._Element, path: str | None, line: int, message: str) -> ValidationResult:
    node = resolve_libxml_path(root, path) if path else None
    field = field_path(node, root) if node is not None else shorten_names(path or "/")
    text = message.strip()
    match = _ELEMENT_PREFIX.match(text)
    if match:
        text = text[match.end() :]
        if match.group(1):
            field = f"{field}/@{match.group(1)}"
    where = f"Line {line}: " if line > 0 else ""
    return ValidationResult(Area.SCHEMA, Level.SEVERE, field, where + shorten_names(text))
