"""A minimal IDeliveryService client: one NPPO's mTLS connection, requests built with lxml and
the hub codec's writers, answers read with the hardened parser and the codec's readers."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
from lxml import etree

from ephyto_core._errors import EphytoError
from ephyto_core._namespaces import HUB, HUB_ENTITIES, SOAP_ENV
from ephyto_core._safexml import XmlLimits, parse_untrusted
from hub.envelopes.domain import EnvelopeHeader
from hub.soap.codec import NSMAP, Children, read_envelope_header, read_header, write_header_fields
from hub.soap.faults import SoapFault

SOAP_PATH = "/hub/DeliveryService"
# A hub's listing answers hold up to 10,000 headers under one element (ours: max_listed_headers),
# past the parser's default of 2,048 child nodes; answers are read, never schema-validated.
_ANSWER_LIMITS = XmlLimits(max_bytes=64 * 1024 * 1024, max_children_per_element=None)


def hub_element(local: str) -> str:
    return f"{{{HUB}}}{local}"


def ent(local: str) -> str:
    return f"{{{HUB_ENTITIES}}}{local}"


class ContractError(Exception):
    """The hub's answer does not follow the contract (not SOAP, missing element, bad header)."""


@dataclass(frozen=True)
class Fault:
    """A SOAP fault answer: its code (Client, Server, ...) and HubWebException message."""

    code: str
    message: str
    http_status: int

    def __str__(self) -> str:
        return f"soap:{self.code} (HTTP {self.http_status}): {self.message}"


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path


class SoapClient:
    """One NPPO's (or no one's) connection to the hub's SOAP endpoint."""

    def __init__(
        self, hub_url: str, *, ca: Path, credentials: Credentials | None, timeout: float = 60
    ) -> None:
        self.address = hub_url.rstrip("/")
        if not self.address.endswith(SOAP_PATH):
            self.address += SOAP_PATH
        cert = (str(credentials.cert), str(credentials.key)) if credentials else None
        self._http = httpx.Client(verify=_tls_context(ca, cert), timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def wsdl(self) -> bytes:
        response = self._http.get(self.address, params={"wsdl": ""})
        response.raise_for_status()
        return response.content

    def call(self, operation: str, build: etree._Element | None = None) -> etree._Element | Fault:
        """Send one operation element (``build``, or an empty one) and return the result element
        (the operation's response) or the fault."""
        request = build if build is not None else etree.Element(hub_element(operation))
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, **NSMAP})
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(request)
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        response = self._http.post(
            self.address,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )
        try:
            answer = parse_untrusted(response.content, limits=_ANSWER_LIMITS, field="answer")
        except EphytoError as exc:
            raise ContractError(
                f"HTTP {response.status_code}, not a SOAP answer: {exc.message}"
            ) from exc
        result = answer.find(f"{{{SOAP_ENV}}}Body/*")
        if result is None:
            raise ContractError(f"HTTP {response.status_code}: the answer has an empty Body")
        if result.tag == f"{{{SOAP_ENV}}}Fault":
            code = (result.findtext("faultcode") or "").rpartition(":")[2]
            message = result.findtext(f"detail/{{{HUB}}}HubWebException/{{{HUB}}}message")
            return Fault(
                code, message or result.findtext("faultstring") or "", response.status_code
            )
        if result.tag != hub_element(f"{operation}Response"):
            raise ContractError(f"expected {operation}Response, got {result.tag}")
        return result


def _tls_context(ca: Path, cert: tuple[str, str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


# ------------------------------------------------------------------------------- requests


def envelope_request(
    operation: str,
    wrapper: str,
    header: EnvelopeHeader,
    *,
    content: str | None = None,
    embedded: etree._Element | None = None,
) -> etree._Element:
    """DeliverEnvelope / DeliverPhytoEnvelope / ValidateAndDeliverEnvelope with one envelope."""
    request = etree.Element(hub_element(operation), nsmap=NSMAP)
    element = etree.SubElement(request, hub_element(wrapper))
    write_header_fields(element, header)
    if content is not None:
        etree.SubElement(element, ent("Content")).text = content
    if embedded is not None:
        element.append(embedded)
    return request


def with_parameters(operation: str, **parameters: str) -> etree._Element:
    request = etree.Element(hub_element(operation), nsmap=NSMAP)
    for name, value in parameters.items():
        etree.SubElement(request, hub_element(name)).text = value
    return request


def base64_text(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


# ------------------------------------------------------------------------------- answers


def result_of(answer: etree._Element, name: str) -> etree._Element:
    found = answer.find(hub_element(name))
    if found is None:
        raise ContractError(f"{etree.QName(answer).localname} has no {name}")
    return found


def header_of(answer: etree._Element, name: str) -> EnvelopeHeader:
    """The EnvelopeHeader in ``name`` of an answer, read as strictly as the hub reads it."""
    try:
        return read_envelope_header(result_of(answer, name), path=name)
    except SoapFault as exc:
        raise ContractError(f"{name}: {exc}") from exc


def headers_of(answer: etree._Element, name: str) -> list[EnvelopeHeader]:
    array = answer.find(hub_element(name))
    if array is None:
        return []
    try:
        return [
            read_envelope_header(item, path=f"{name}/EnvelopeHeader")
            for item in array.iterfind(ent("EnvelopeHeader"))
        ]
    except SoapFault as exc:
        raise ContractError(f"{name}: {exc}") from exc


HEADER_FIELDS = tuple(
    ent(n)
    for n in (
        "From",
        "To",
        "CertificateType",
        "CertificateStatus",
        "NPPOCertificateNumber",
        "hubDeliveryNumber",
        "HUBTrackingInfo",
        "hubDeliveryErrorMessage",
        "Forwardings",
    )
)


def envelope_of(answer: etree._Element, name: str) -> tuple[EnvelopeHeader, str]:
    """The header and the Content text of an Envelope in ``name``."""
    element = result_of(answer, name)
    try:
        children = Children(element, path=name, allowed=(*HEADER_FIELDS, ent("Content")))
        header = read_header(children)
        content = children.text(ent("Content"), required=True)
    except SoapFault as exc:
        raise ContractError(f"{name}: {exc}") from exc
    assert content is not None
    return header, content
