"""The small XML documents the hub signs, and reading them back from a verified tree.

All three (``EnvelopeSeal``, ``DeliveryReceipt``, ``EvidenceCheckpoint``) live in one namespace,
carry a ``Version`` attribute, hold one text element per fact, in a fixed order, and end with the
hub's enveloped ``ds:Signature``. Times are UTC ``xs:dateTime`` with microseconds and a ``Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, TypeVar

from lxml import etree

from hub.signing.xmldsig import SignatureInvalid

NAMESPACE: Final = "urn:ephyto:hub:signatures:1"
VERSION: Final = "1"
_PREFIX: Final = "hs"

T = TypeVar("T")


def tag(local: str) -> str:
    return f"{{{NAMESPACE}}}{local}"


def new_document(local: str) -> etree._Element:
    root = etree.Element(tag(local), nsmap={_PREFIX: NAMESPACE})
    root.set("Version", VERSION)
    return root


def add(parent: etree._Element, local: str, text: str | None) -> None:
    """A child with text; nothing for None (optional facts are simply absent)."""
    if text is not None:
        etree.SubElement(parent, tag(local)).text = text


def xs_datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a signed time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_xs_datetime(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class Reader:
    """The facts of a verified document, refusing one that is not the expected kind."""

    def __init__(self, document: etree._Element, local: str) -> None:
        if document.tag != tag(local):
            raise SignatureInvalid(f"expected a signed {local}, found {document.tag}")
        if document.get("Version") != VERSION:
            raise SignatureInvalid(f"{local} version {document.get('Version')!r} is not known")
        self._document = document
        self._local = local

    def optional(self, local: str) -> str | None:
        child = self._document.find(tag(local))
        return None if child is None else (child.text or "")

    def text(self, local: str) -> str:
        value = self.optional(local)
        if value is None:
            raise SignatureInvalid(f"the signed {self._local} has no {local}")
        return value

    def parsed(self, local: str, parse: Callable[[str], T]) -> T:
        value = self.text(local)
        try:
            return parse(value)
        except ValueError as exc:
            raise SignatureInvalid(f"{self._local} {local} {value!r} is malformed") from exc
