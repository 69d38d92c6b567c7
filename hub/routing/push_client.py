"""Calling a push receiver: the destination's own `IDeliveryService.DeliverEnvelope`.

A push receiver hosts the same SOAP contract as the hub, so the request is the one a national
system sends the hub (built with the hub's own codec), and the answer is an `EnvelopeHeader`.
The hub authenticates with its own TLS client certificate and checks the receiver's server
certificate against `push_ca_bundle` (or the system store).
"""

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
from lxml import etree

from ephyto_core._namespaces import SOAP_ENV
from ephyto_core._safexml import XmlLimits
from hub.envelopes.domain import Envelope, TrackingState
from hub.soap.codec import NSMAP, Children, hub, read_envelope_header, soap_envelope, write_envelope
from hub.soap.operations import SOAP_ACTION_BASE
from hub.soap.request import operation_element

#: An answer is a header, a few KB at most; refuse to parse more.
MAX_ANSWER_BYTES: Final = 1024 * 1024
_FAULT: Final = f"{{{SOAP_ENV}}}Fault"
_FINAL_ANSWERS: Final = frozenset(
    {
        TrackingState.DELIVERED,
        TrackingState.DELIVERED_WITH_WARNINGS,
        TrackingState.DELIVERED_NOT_READABLE,
        TrackingState.FAILED_DELIVERY,
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PushAnswered:
    """The receiver answered with a header: the envelope's final state, from that answer."""

    state: TrackingState
    message: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class PushFailed:
    """No usable answer (refused connection, timeout, HTTP error, fault): try again later."""

    reason: str


PushOutcome = PushAnswered | PushFailed


def client_ssl_context(
    *, client_cert: Path | None, client_key: Path | None, ca_bundle: Path | None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    if client_cert is not None and client_key is not None:
        context.load_cert_chain(client_cert, client_key)
    return context


def deliver_envelope_request(envelope: Envelope) -> bytes:
    request = etree.Element(hub("DeliverEnvelope"), nsmap=NSMAP)
    write_envelope(request, hub("env"), envelope)
    return soap_envelope(request)


def read_answer(status_code: int, body: bytes, *, expected_number: str) -> PushOutcome:
    """What a DeliverEnvelope answer means for the envelope.

    A header that says nothing final (no HUBTrackingInfo, or our own PendingDelivery echoed
    back) means the receiver took it: Delivered. A header that says DeliveredWithWarnings,
    DeliveredNotReadable or FailedDelivery is taken at its word.
    """
    try:
        element = operation_element(body, limits=XmlLimits(max_bytes=MAX_ANSWER_BYTES))
    except Exception as exc:
        return PushFailed(reason=f"HTTP {status_code} with an unreadable answer: {exc}")
    if element.tag == _FAULT:
        text = " ".join(str(t).strip() for t in element.itertext() if str(t).strip())
        return PushFailed(reason=f"SOAP fault (HTTP {status_code}): {text[:500]}")
    if status_code != 200:
        return PushFailed(reason=f"HTTP {status_code}")
    if element.tag != hub("DeliverEnvelopeResponse"):
        return PushFailed(reason=f"answer is {element.tag}, not DeliverEnvelopeResponse")
    try:
        result = Children(
            element, path="DeliverEnvelopeResponse", allowed=(hub("DeliverEnvelopeResult"),)
        ).element(hub("DeliverEnvelopeResult"), required=True)
        assert result is not None
        header = read_envelope_header(result, path="DeliverEnvelopeResult")
    except Exception as exc:
        return PushFailed(reason=f"answer header unreadable: {exc}")
    if header.hub_delivery_number and header.hub_delivery_number != expected_number:
        return PushFailed(
            reason=f"answer names envelope {header.hub_delivery_number}, not {expected_number}"
        )
    if header.tracking_info in _FINAL_ANSWERS:
        assert header.tracking_info is not None
        delivered = header.tracking_info is TrackingState.DELIVERED
        return PushAnswered(
            state=header.tracking_info, message=None if delivered else header.error_message
        )
    return PushAnswered(state=TrackingState.DELIVERED, message=None)


class PushClient:
    """One receiver's HTTP client: its own connection pool, so a slow receiver holds only its
    own connections."""

    def __init__(
        self, *, url: str, ssl_context: ssl.SSLContext, timeout: float, max_connections: int
    ) -> None:
        self.url = url
        self._client = httpx.AsyncClient(
            verify=ssl_context,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        self._timeout = timeout

    async def deliver(self, envelope: Envelope) -> PushOutcome:
        number = envelope.header.hub_delivery_number or ""
        try:
            response = await self._client.post(
                self.url,
                content=deliver_envelope_request(envelope),
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "SOAPAction": f'"{SOAP_ACTION_BASE}DeliverEnvelope"',
                },
            )
        except httpx.TimeoutException:
            return PushFailed(reason=f"no answer within {self._timeout:g}s")
        except httpx.HTTPError as exc:
            return PushFailed(reason=f"{type(exc).__name__}: {exc}"[:500])
        return read_answer(response.status_code, response.content, expected_number=number)

    async def aclose(self) -> None:
        await self._client.aclose()
