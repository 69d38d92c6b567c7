"""Mutual TLS for uvicorn, and where the hub reads the caller's client certificate from.

Uvicorn does not put the TLS client certificate into the ASGI scope (it implements no ASGI TLS
extension). It does hand every request a shallow copy of a per-protocol ``app_state`` dict as
``scope["state"]`` (Starlette's ``request.state``), and it creates one protocol object per
connection. So :class:`MtlsHttpToolsProtocol` (and its h11 twin) replaces its ``app_state`` in
``connection_made`` — which asyncio calls only once the TLS handshake has finished — with a copy
that also carries the peer certificate (DER) and the immediate peer address. Every request on
that connection then sees them.
The lifespan state is complete by then (uvicorn starts listening after start-up), so the copy
loses nothing.

What OpenSSL decides, and what the app decides:

- With ``require_client_cert=False`` (the default) the server asks for a certificate but lets a
  client without one finish the handshake (``CERT_OPTIONAL``), so the app can answer a clear
  "no client certificate presented" (401 / SOAP fault) and anyone can still fetch ``?wsdl``.
- A certificate that does not chain to ``ca_bundle``, is expired or not yet valid, is refused by
  OpenSSL during the handshake in both modes: the app never sees that connection. asyncio
  (3.11, ``sslproto``) then closes the socket without flushing OpenSSL's alert and logs nothing
  unless the loop runs in debug mode, so the client reads a bare EOF — during the handshake with
  TLS 1.2, on its first read with TLS 1.3 (whose client finishes the handshake before the server
  has judged its certificate) — and the server keeps no trace of the refusal.
- A resumed TLS session still yields the certificate (OpenSSL keeps it in the session) but its
  dates are not checked again, so a ticket issued just before ``not_after`` can outlive it by the
  ticket lifetime; the identity service checks the registered certificate's dates per request.
- A certificate that chains and is in date is *authenticated* but not yet *authorised*: mapping
  its fingerprint to a registered, active NPPO is the identity service's job.

Behind a TLS-terminating proxy, :func:`client_certificate_der` takes the certificate from a
header instead, but only when the immediate peer is one of the configured trusted proxies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.requests import HTTPConnection

from hub.errors import NotAuthenticated
from hub.identity.read_deadline import (
    ReadDeadlineH11Protocol,
    ReadDeadlineHttpToolsProtocol,
    ReadTimeouts,
)

__all__ = [
    "DEFAULT_CLIENT_CERT_HEADER",
    "MtlsH11Protocol",
    "MtlsHttpToolsProtocol",
    "client_certificate_der",
    "make_uvicorn_config",
]

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_CERT_HEADER = "X-Client-Cert"

# Keys in the per-connection state. Dotted so they cannot clash with an app's own state names.
CLIENT_CERT_STATE_KEY = "ephyto.tls.client_cert_der"
PEER_ADDRESS_STATE_KEY = "ephyto.tls.peer_address"

_PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----(?P<body>.*?)-----END CERTIFICATE-----", re.DOTALL
)

TrustedProxies = Sequence[IPv4Network | IPv6Network]


class _PeerInState(asyncio.Protocol):
    """Records the TLS peer certificate and the peer address in every request's state.

    Both are recorded on plain-HTTP connections too (certificate ``None``), so a hub behind a
    proxy still knows the *immediate* peer even when ``proxy_headers`` rewrites
    ``scope["client"]`` from ``X-Forwarded-For``.
    """

    # Provided by uvicorn's protocol classes, which this is mixed into.
    app_state: dict[str, Any]
    client: tuple[str, int] | None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # uvicorn's protocol, after this in the MRO
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.app_state = {
            **self.app_state,
            CLIENT_CERT_STATE_KEY: der,
            PEER_ADDRESS_STATE_KEY: self.client[0] if self.client else None,
        }


class MtlsHttpToolsProtocol(_PeerInState, ReadDeadlineHttpToolsProtocol):
    """Uvicorn's httptools protocol, plus the TLS peer certificate and peer address in request
    state, and a deadline on reading each request (:mod:`hub.identity.read_deadline`)."""


class MtlsH11Protocol(_PeerInState, ReadDeadlineH11Protocol):
    """The same on uvicorn's pure-Python h11 protocol (``http="h11"``)."""


#: The protocol each HTTP/1.1 implementation name selects.
PROTOCOLS: dict[str, type[MtlsHttpToolsProtocol] | type[MtlsH11Protocol]] = {
    "httptools": MtlsHttpToolsProtocol,
    "h11": MtlsH11Protocol,
}


def make_uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    cert: Path | None = None,
    key: Path | None = None,
    ca_bundle: Path | None = None,
    require_client_cert: bool = False,
    read_timeouts: ReadTimeouts | None = None,
    http: str = "httptools",
    **uvicorn_options: Any,
) -> uvicorn.Config:
    """A uvicorn config that serves ``app`` over TLS 1.2+ and asks for client certificates.

    ``cert``/``key``: the hub's TLS server certificate. ``ca_bundle``: the CAs whose client
    certificates are accepted; without it no client certificate is asked for. With no ``cert``
    the server speaks plain HTTP (the deployment behind a TLS-terminating proxy), still through
    our protocol so the immediate peer address is known. ``port=0`` picks a free port.
    ``read_timeouts`` replaces the default deadlines on reading a request. ``http`` picks the
    HTTP/1.1 parser: ``httptools`` (C, the default) or ``h11`` (pure Python). Other keyword
    arguments go to ``uvicorn.Config`` unchanged.
    """
    base = PROTOCOLS[http]
    protocol: type[MtlsHttpToolsProtocol] | type[MtlsH11Protocol] = base
    if read_timeouts is not None:
        protocol = type(base.__name__, (base,), {"read_timeouts": read_timeouts})
    if cert is None:
        if key is not None or ca_bundle is not None or require_client_cert:
            raise ValueError("key, ca_bundle and require_client_cert need a server certificate")
        return uvicorn.Config(app, host=host, port=port, http=protocol, **uvicorn_options)
    if require_client_cert and ca_bundle is None:
        raise ValueError("require_client_cert needs a ca_bundle to check client certificates")
    if ca_bundle is None:
        cert_reqs = ssl.CERT_NONE
    else:
        cert_reqs = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        ssl_certfile=cert,
        ssl_keyfile=key,
        ssl_ca_certs=ca_bundle,
        ssl_cert_reqs=cert_reqs,
        ssl_context_factory=_tls12_or_later,
        **uvicorn_options,
    )


def _tls12_or_later(
    config: uvicorn.Config, default_factory: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    # uvicorn builds the context from the ssl_* options; we only raise the floor. Python 3.11
    # with OpenSSL 3 already defaults to TLS 1.2, but that is a build default, not a promise.
    context = default_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def client_certificate_der(
    source: HTTPConnection | Mapping[str, Any],
    *,
    trusted_proxies: TrustedProxies = (),
    header: str = DEFAULT_CLIENT_CERT_HEADER,
) -> bytes | None:
    """The caller's client certificate (DER), or None when it presented none.

    ``source`` is a Starlette request (or websocket) or a raw ASGI scope. When the immediate peer
    is one of ``trusted_proxies`` the certificate comes from ``header`` only — the proxy speaks
    for its clients, and its own TLS certificate, if any, is never taken for an NPPO's. From any
    other peer the certificate comes from the TLS connection only, and a ``header`` it sends is
    ignored (and logged: it is either a misconfigured proxy or someone trying to pass as one).

    The header carries PEM, URL-encoded as nginx's ``$ssl_client_escaped_cert`` sends it, or with
    spaces or tabs for newlines (Apache, older proxies), or bare base64 DER (HAProxy, Traefik);
    for a chain, the first certificate is the client's. A header that cannot be read raises
    :class:`~hub.errors.NotAuthenticated`: a trusted proxy sending garbage is a fault to report,
    not an anonymous caller.
    """
    scope = source.scope if isinstance(source, HTTPConnection) else source
    state: Mapping[str, Any] = scope.get("state") or {}
    tls_der: bytes | None = state.get(CLIENT_CERT_STATE_KEY)
    peer = _immediate_peer(scope, state)
    values = _header_values(scope, header)

    if peer is not None and _is_trusted(peer, trusted_proxies):
        if not values:
            return None
        if len(values) > 1:
            raise NotAuthenticated(
                f"the proxy sent {len(values)} {header} headers; expected one",
                field="client_certificate",
            )
        return _der_from_header(values[0], header)

    if values:
        logger.warning("ignored %s header from %s, which is not a trusted proxy", header, peer)
    return tls_der


def _immediate_peer(scope: Mapping[str, Any], state: Mapping[str, Any]) -> str | None:
    # Prefer what our protocol recorded from the socket: scope["client"] may have been rewritten
    # from X-Forwarded-For by uvicorn's proxy-headers middleware.
    if PEER_ADDRESS_STATE_KEY in state:
        recorded: str | None = state[PEER_ADDRESS_STATE_KEY]
        return recorded
    client = scope.get("client")
    return str(client[0]) if client else None


def _is_trusted(peer: str, trusted_proxies: TrustedProxies) -> bool:
    if not trusted_proxies:
        return False
    try:
        address = ip_address(peer)
    except ValueError:  # a unix socket path or a test client's made-up name
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # "::ffff:10.0.0.5" on a dual-stack socket is 10.0.0.5
    return any(address in network for network in trusted_proxies)


def _header_values(scope: Mapping[str, Any], header: str) -> list[str]:
    wanted = header.lower().encode("latin-1")
    headers: Sequence[tuple[bytes, bytes]] = scope.get("headers") or ()
    values = [value.decode("latin-1").strip() for name, value in headers if name.lower() == wanted]
    # nginx sends no header at all for an empty $ssl_client_escaped_cert, other proxies send ""
    # or "(null)": all mean "no client certificate".
    return [value for value in values if value and value != "(null)"]


def _der_from_header(value: str, header: str) -> bytes:
    text = unquote(value)  # "%2B" -> "+"; a literal "+" stays (base64, not a space)
    match = _PEM_CERTIFICATE.search(text)
    body = match.group("body") if match else text
    # Only the encoding is checked here: whether the bytes are a certificate matters only when
    # they are not a registered one, and authentication then says so (identity/service.py).
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAuthenticated(
            f"the client certificate in the {header} header from the proxy is unreadable",
            field="client_certificate",
        ) from exc
