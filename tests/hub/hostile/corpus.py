"""The manifest's documents, and the carriers that take a document to the hub.

A carrier is one way a national system hands the hub a certificate: a SOAP field (escaped, CDATA,
base64), the SOAP request itself (embedded), a REST field, or the validation endpoints.
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx

from tests.hub.hostile.harness import HostileHub, RecordingServer, Secrets
from tests.hub.rest.payloads import certificate_xml
from tests.hub.soap.soapxml import header_xml, soap_request

HERE = Path(__file__).parent
CORE_HOSTILE = HERE.parent.parent / "core" / "data" / "hostile"
MANIFEST: dict[str, Any] = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))

_ROOT_START = re.compile(r"<rsm:SPSCertificate\b[^>]*>")
# The prolog: blanks, comments, processing instructions and a DOCTYPE with its internal subset.
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>)*", re.DOTALL)
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def generate(pieces: list[list[Any]]) -> str:
    parts = []
    for text, count in pieces:
        if "{i}" in text:
            parts.append("".join(text.replace("{i}", str(i)) for i in range(count)))
        else:
            parts.append(text * count)
    return "".join(parts)


@dataclass(frozen=True)
class Document:
    id: str
    expect: str
    reason: str | None
    network: bool
    embeddable: bool
    overrides: dict[str, dict[str, str]]
    spec: dict[str, Any]
    #: Only these carriers (all that can hold the document when empty).
    carriers: tuple[str, ...]
    #: Why the case is expected to fail until the hub changes (strict xfail), if it is.
    xfail: str | None

    def expectation(self, carrier: str) -> tuple[str, str | None]:
        """(outcome, reason) for this carrier: the manifest's, or its override."""
        override = self.overrides.get(carrier, {})
        expect = override.get("expect", self.expect)
        reason = override.get("reason", self.reason if expect == self.expect else None)
        if carrier == "soap-embedded" and expect == "refused" and "expect" not in override:
            return "fault", reason
        return expect, reason

    def content(self, *, number: str, port: int, secrets: Secrets) -> bytes:
        if "source" in self.spec:
            folder, _, name = self.spec["source"].rpartition(":")
            raw = ((CORE_HOSTILE if folder == "core" else HERE / "data") / name).read_bytes()
        elif "generate" in self.spec:
            raw = generate(self.spec["generate"]).encode()
        else:
            raw = _hostile_certificate(self.spec["certificate"], number).encode()
        for placeholder, value in (
            (b"{{PORT}}", str(port).encode()),
            (b"{{SECRET}}", str(secrets.text).encode()),
            (b"{{SECRET_DTD}}", str(secrets.dtd).encode()),
            (b"{{A100K}}", b"a" * 100_000),
        ):
            raw = raw.replace(placeholder, value)
        return raw


def _hostile_certificate(spec: dict[str, Any], number: str) -> str:
    valid = certificate_xml(number)
    start = _ROOT_START.search(valid)
    assert start is not None
    attributes = generate(spec.get("attributes", []))
    inside = generate(spec.get("inside", []))
    start_tag = start.group()[:-1] + attributes + ">"
    document = valid[: start.start()] + start_tag + inside + valid[start.end() :]
    if "before" in spec:
        anchor = spec["before"]
        assert anchor in document, anchor
        document = document.replace(anchor, generate(spec["pieces"]) + anchor, 1)
    return spec.get("prolog", "") + document


def documents() -> list[Document]:
    return [
        Document(
            id=entry["id"],
            expect=entry["expect"],
            reason=entry.get("reason"),
            network=entry.get("network", False),
            embeddable="certificate" in entry,
            overrides=entry.get("override", {}),
            spec=entry,
            carriers=tuple(entry.get("carriers", ())),
            xfail=entry.get("xfail"),
        )
        for entry in MANIFEST["document"]
    ]


# ------------------------------------------------------------------------------- carriers

Send = Callable[[HostileHub, bytes, str], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Carrier:
    name: str
    face: str
    #: "deliver" stores on success; "validate" never stores.
    purpose: str
    send: Send
    needs: str  # "bytes" | "xml-text" | "json-text" | "cdata" | "embeddable"


def _text(document: bytes) -> str | None:
    try:
        return document.decode("utf-8")
    except UnicodeDecodeError:
        return None


def can_carry(carrier: Carrier, document: Document, content: bytes) -> bool:
    if carrier.needs == "bytes":
        return True
    text = _text(content)
    if text is None:
        return False
    if carrier.needs == "json-text":
        return True
    if _NOT_XML_CHAR.search(text):
        return False
    if carrier.needs == "cdata":
        return "]]>" not in text
    if carrier.needs == "embeddable":
        return document.embeddable
    return True


def _escaped(text: str) -> str:
    # A carriage return must travel as a reference: a literal one is read back as a line feed.
    return escape(text, {"\r": "&#13;"})


def _deliver_envelope(content: str, number: str) -> bytes:
    return soap_request(
        f"<hub:DeliverEnvelope><hub:env>{header_xml(number=number)}"
        f"<ent:Content>{content}</ent:Content></hub:env></hub:DeliverEnvelope>"
    )


async def _soap_escaped(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    return await hub.soap(_deliver_envelope(_escaped(document.decode()), number))


async def _soap_cdata(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    return await hub.soap(_deliver_envelope(f"<![CDATA[{document.decode()}]]>", number))


async def _soap_base64(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    return await hub.soap(_deliver_envelope(base64.encodebytes(document).decode(), number))


async def _soap_embedded(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    prolog = _PROLOG.match(document)
    end = prolog.end() if prolog else 0
    request = soap_request(
        f"<hub:DeliverPhytoEnvelope><hub:ePhytoEnvelope>{header_xml(number=number)}"
        f"{document[end:].decode()}</hub:ePhytoEnvelope></hub:DeliverPhytoEnvelope>"
    )
    return await hub.soap(document[:end] + request)


async def _soap_validate(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    text = _escaped(document.decode())
    return await hub.soap(
        soap_request(
            f"<hub:ValidatePhytoXML><hub:ePhytoXML>{text}</hub:ePhytoXML></hub:ValidatePhytoXML>"
        )
    )


def _submission(number: str, **content: str) -> dict[str, Any]:
    return {
        "from": "AA",
        "to": "BB",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": number,
        # Like DeliverEnvelope: what parses safely is stored, validation findings or not.
        "validate_first": False,
        **content,
    }


async def _rest_content(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    return await hub.rest(
        "POST", "/envelopes", json_body=_submission(number, content=document.decode())
    )


async def _rest_content_base64(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    encoded = base64.b64encode(document).decode()
    return await hub.rest(
        "POST", "/envelopes", json_body=_submission(number, content_base64=encoded)
    )


async def _rest_validate_xml(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    return await hub.rest("POST", "/validation", content=document, content_type="application/xml")


async def _rest_validate_json(hub: HostileHub, document: bytes, number: str) -> httpx.Response:
    body = json.dumps({"xml": document.decode()}).encode()
    return await hub.rest("POST", "/validation", content=body, content_type="application/json")


CARRIERS = (
    Carrier("soap-escaped", "soap", "deliver", _soap_escaped, "xml-text"),
    Carrier("soap-cdata", "soap", "deliver", _soap_cdata, "cdata"),
    Carrier("soap-base64", "soap", "deliver", _soap_base64, "bytes"),
    Carrier("soap-embedded", "soap", "deliver", _soap_embedded, "embeddable"),
    Carrier("soap-validate", "soap", "validate", _soap_validate, "xml-text"),
    Carrier("rest-content", "rest", "deliver", _rest_content, "json-text"),
    Carrier("rest-content-base64", "rest", "deliver", _rest_content_base64, "bytes"),
    Carrier("rest-validate-xml", "rest", "validate", _rest_validate_xml, "bytes"),
    Carrier("rest-validate-json", "rest", "validate", _rest_validate_json, "json-text"),
)


def cases() -> list[tuple[Document, Carrier]]:
    """Every (document, carrier) pair the manifest asks for and the carrier can hold."""
    placeholders = Secrets(text=Path("/s"), dtd=Path("/d"))
    names = {carrier.name for carrier in CARRIERS}
    chosen = []
    for document in documents():
        assert set(document.carriers) <= names, document.carriers
        assert set(document.overrides) <= names, document.overrides
        content = document.content(number="N", port=1, secrets=placeholders)
        for carrier in CARRIERS:
            wanted = not document.carriers or carrier.name in document.carriers
            if wanted and can_carry(carrier, document, content):
                chosen.append((document, carrier))
    return chosen


__all__ = ["CARRIERS", "Carrier", "Document", "RecordingServer", "cases", "documents"]
