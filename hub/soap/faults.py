"""SOAP 1.1 faults: every refusal is a `HubWebException`, the contract's one error channel.

Fault rules (the contract's only fault is ``HubWebException { message }``; SOAP 1.1 §4.4 adds the
codes):

- ``soap:Client`` — the caller must change the request: malformed or unsafe XML, not a SOAP 1.1
  envelope, missing or doubled Body, unknown operation, a missing or mistyped parameter, and
  every expected domain refusal (`HubError` with a 4xx status, `EphytoError` from the core:
  not authenticated, forbidden, not found, conflict, invalid).
- ``soap:Server`` — the request may be fine and the hub failed (`HubError` with a 5xx status,
  or an unexpected exception). Unexpected exceptions are logged with a reference that the fault
  repeats; the fault never carries a traceback or an exception's text.
- ``soap:VersionMismatch`` / ``soap:MustUnderstand`` — as SOAP 1.1 defines them: an envelope in
  another namespace (e.g. SOAP 1.2), a header block marked mustUnderstand that we do not process.

HTTP status: every fault is sent with 500. WS-I Basic Profile 1.1 (R1126) and SOAP 1.1 §6.2 say
so, and clients depend on it: zeep raises `zeep.exceptions.Fault` for any non-200 answer that
carries a Fault, but Axis 1.x (the stubs several national systems generated from this WSDL) only
reads a SOAP fault from a 5xx response, and WCF turns a 400 into a `ProtocolException` instead of
a `FaultException`. A 500 here is a deliberate, well-formed answer, not an unhandled error: an
unhandled error never leaves this module as anything but a generic Server fault.
"""

import logging
import re
import uuid
from enum import StrEnum
from typing import Final

from lxml import etree

from ephyto_core._errors import EphytoError
from ephyto_core._namespaces import HUB, SOAP_ENV
from hub.database import database_unavailable
from hub.errors import HubError

logger = logging.getLogger(__name__)

FAULT_HTTP_STATUS: Final = 500
SOAP_CONTENT_TYPE: Final = "text/xml; charset=utf-8"

# Characters XML 1.0 cannot carry even escaped; a message quoting hostile input may hold them.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class FaultCode(StrEnum):
    CLIENT = "Client"
    SERVER = "Server"
    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"


class SoapFault(Exception):
    """A refusal decided by the SOAP layer itself (envelope, operation, parameters)."""

    def __init__(
        self, message: str, *, field: str | None = None, code: FaultCode = FaultCode.CLIENT
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def fault_for(exc: BaseException) -> SoapFault:
    """The fault to answer for an exception; unexpected ones are logged, never described."""
    if isinstance(exc, SoapFault):
        return exc
    if isinstance(exc, HubError):
        code = FaultCode.SERVER if exc.status >= 500 else FaultCode.CLIENT
        return SoapFault(exc.message, field=exc.field, code=code)
    if isinstance(exc, EphytoError):
        return SoapFault(exc.message, field=exc.field, code=FaultCode.CLIENT)
    if database_unavailable(exc):
        logger.warning("SOAP request: database unavailable: %r", exc)
        return SoapFault(
            "the hub could not reach its database; nothing was stored, send the same request "
            "again shortly",
            code=FaultCode.SERVER,
        )
    reference = uuid.uuid4().hex[:12]
    logger.error("SOAP request failed unexpectedly (reference %s)", reference, exc_info=exc)
    return SoapFault(
        f"internal error in the hub (reference {reference}); the request was not completed "
        "and may be retried",
        code=FaultCode.SERVER,
    )


def xml_safe(text: str) -> str:
    return _NOT_XML_CHAR.sub("\ufffd", text)


def render_fault(fault: SoapFault) -> bytes:
    """A SOAP 1.1 Fault with ``detail/hub:HubWebException/hub:message``.

    ``message`` is qualified: the ``http://ephyto.ippc.int/`` schema has
    elementFormDefault="qualified", and WSDL clients parse the detail with that schema.
    """
    text = xml_safe(str(fault))
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    soap_fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    # faultcode, faultstring and detail are unqualified in SOAP 1.1.
    etree.SubElement(soap_fault, "faultcode").text = f"soap:{fault.code.value}"
    etree.SubElement(soap_fault, "faultstring").text = text
    detail = etree.SubElement(soap_fault, "detail")
    exception = etree.SubElement(detail, f"{{{HUB}}}HubWebException", nsmap={"hub": HUB})
    etree.SubElement(exception, f"{{{HUB}}}message").text = text
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
