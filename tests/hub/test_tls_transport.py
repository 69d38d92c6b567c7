"""Mutual TLS through a real uvicorn on 127.0.0.1: what the app sees of the caller's certificate.

The app under test echoes the SHA-256 fingerprint of the client certificate
``client_certificate_der`` finds, and records every request it receives, so a test can tell
"refused at the handshake" (the app never saw the request) from "reached the app anonymously".
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request
from starlette.requests import Request as StarletteRequest

from ephyto_core._pki import (
    IssuedCertificate,
    create_ca,
    fingerprint_sha256,
    issue_client_certificate,
    issue_server_certificate,
)
from hub.errors import NotAuthenticated
from hub.identity.server import run_in_thread
from hub.identity.tls import client_certificate_der, make_uvicorn_config

NOW = datetime.now(UTC)
# TEST-NET-3 (RFC 5737): never the address our test client connects from.
ELSEWHERE = [ip_network("203.0.113.0/24")]
LOOPBACK = [ip_network("127.0.0.0/8")]


@dataclass(frozen=True)
class Pki:
    ca: IssuedCertificate
    server: IssuedCertificate
    aa: IssuedCertificate
    bb: IssuedCertificate
    expired: IssuedCertificate
    not_yet_valid: IssuedCertificate
    stranger: IssuedCertificate  # issued by another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = create_ca().save(directory, "ca")
    return Pki(
        ca=ca,
        server=issue_server_certificate(ca).save(directory, "hub-tls"),
        aa=issue_client_certificate(ca, nppo_code="AA").save(directory, "AA-client"),
        bb=issue_client_certificate(ca, nppo_code="BB").save(directory, "BB-client"),
        expired=issue_client_certificate(
            ca, nppo_code="AA", not_before=NOW - timedelta(days=40), days=30
        ).save(directory, "AA-expired"),
        not_yet_valid=issue_client_certificate(
            ca, nppo_code="AA", not_before=NOW + timedelta(days=1)
        ).save(directory, "AA-future"),
        stranger=issue_client_certificate(create_ca(), nppo_code="AA").save(directory, "stranger"),
    )


@dataclass
class EchoApp:
    """A FastAPI app that reports the client certificate it sees, per trusted-proxy policy."""

    app: FastAPI = field(default_factory=FastAPI)
    requests_seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._route("/direct", ELSEWHERE)  # no trusted proxy is our peer: TLS identity only
        self._route("/behind-proxy", LOOPBACK)  # our peer is the trusted proxy: header only

    def _route(self, path: str, trusted: list[IPv4Network | IPv6Network]) -> None:
        async def echo(request: Request) -> dict[str, Any]:
            self.requests_seen.append(path)
            der = client_certificate_der(request, trusted_proxies=trusted)
            return {"fingerprint": fingerprint_sha256(der) if der else None}

        self.app.add_api_route(path, echo)


@pytest.fixture(scope="module")
def echo() -> EchoApp:
    return EchoApp()


@pytest.fixture(scope="module")
def hub_url(pki: Pki, echo: EchoApp) -> Iterator[str]:
    config = make_uvicorn_config(
        echo.app,
        host="127.0.0.1",
        port=0,
        cert=pki.server.cert_path,
        key=pki.server.key_path,
        ca_bundle=pki.ca.cert_path,
        log_config=None,
        # Let uvicorn rewrite scope["client"] from X-Forwarded-For, as a deployment behind a proxy
        # would: identity must not follow it.
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    with run_in_thread(config) as url:
        yield url


def tls_client(
    pki: Pki,
    certificate: IssuedCertificate | None,
    *,
    max_version: ssl.TLSVersion | None = None,
) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # the hub's certificate passes strict checks
    if max_version is not None:
        context.maximum_version = max_version
    if certificate is not None:
        context.load_cert_chain(str(certificate.cert_path), str(certificate.key_path))
    return httpx.Client(verify=context, timeout=5)


def fingerprint_seen(client: httpx.Client, url: str, **kwargs: Any) -> str | None:
    response = client.get(url, **kwargs)
    response.raise_for_status()
    seen: str | None = response.json()["fingerprint"]
    return seen


def nginx_escaped(certificate: IssuedCertificate) -> str:
    """The certificate as nginx's ``$ssl_client_escaped_cert`` sends it (URL-encoded PEM)."""
    return quote(certificate.cert_pem().decode(), safe="")


# --- TLS identity -----------------------------------------------------------------------------


def test_app_sees_the_client_certificate_the_nppo_presented(pki: Pki, hub_url: str) -> None:
    with tls_client(pki, pki.aa) as client:
        assert fingerprint_seen(client, f"{hub_url}/direct") == pki.aa.fingerprint


def test_each_connection_carries_its_own_certificate(pki: Pki, hub_url: str) -> None:
    with (
        tls_client(pki, pki.aa) as aa,
        tls_client(pki, pki.bb) as bb,
        tls_client(pki, None) as anon,
    ):
        # Interleaved on three kept-alive connections: nothing leaks between them.
        for _ in range(2):
            assert fingerprint_seen(aa, f"{hub_url}/direct") == pki.aa.fingerprint
            assert fingerprint_seen(anon, f"{hub_url}/direct") is None
            assert fingerprint_seen(bb, f"{hub_url}/direct") == pki.bb.fingerprint


def test_client_without_certificate_reaches_the_app_as_anonymous(pki: Pki, hub_url: str) -> None:
    with tls_client(pki, None) as client:
        assert fingerprint_seen(client, f"{hub_url}/direct") is None


def test_hub_certificate_verifies_for_localhost_as_well_as_loopback(pki: Pki, hub_url: str) -> None:
    port = urlsplit(hub_url).port
    with tls_client(pki, pki.aa) as client:
        assert fingerprint_seen(client, f"https://localhost:{port}/direct") == pki.aa.fingerprint


def raw_get(
    port: int, context: ssl.SSLContext, session: ssl.SSLSession | None
) -> tuple[dict[str, Any], ssl.SSLSession | None, bool]:
    """One request on a fresh TLS connection, offering ``session`` for resumption."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost", session=session) as tls,
    ):
        tls.sendall(b"GET /direct HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        response = b""
        while chunk := tls.recv(65536):
            response += chunk
        body: dict[str, Any] = json.loads(response.split(b"\r\n\r\n", 1)[1])
        return body, tls.session, bool(tls.session_reused)


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_resumed_tls_session_keeps_the_client_identity(
    pki: Pki, hub_url: str, max_version: ssl.TLSVersion
) -> None:
    port = urlsplit(hub_url).port
    assert port is not None
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    context.maximum_version = max_version
    context.load_cert_chain(str(pki.aa.cert_path), str(pki.aa.key_path))

    first, session, _ = raw_get(port, context, None)
    second, _, reused = raw_get(port, context, session)

    # OpenSSL keeps the peer certificate in the session, so an abbreviated handshake (no
    # certificate sent again) still identifies the NPPO.
    assert reused
    assert first["fingerprint"] == second["fingerprint"] == pki.aa.fingerprint


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
@pytest.mark.parametrize("which", ["stranger", "expired", "not_yet_valid"])
def test_certificate_that_does_not_verify_is_refused_before_the_app(
    pki: Pki, hub_url: str, echo: EchoApp, which: str, max_version: ssl.TLSVersion
) -> None:
    certificate: IssuedCertificate = getattr(pki, which)
    before = len(echo.requests_seen)

    # asyncio drops the connection without flushing OpenSSL's alert, so the client reads only
    # an EOF: during the handshake with TLS 1.2, on the first response read with TLS 1.3.
    with (
        tls_client(pki, certificate, max_version=max_version) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.get(f"{hub_url}/direct")

    assert len(echo.requests_seen) == before


def test_required_client_certificate_refuses_anonymous_callers(pki: Pki, echo: EchoApp) -> None:
    config = make_uvicorn_config(
        echo.app,
        host="127.0.0.1",
        port=0,
        cert=pki.server.cert_path,
        key=pki.server.key_path,
        ca_bundle=pki.ca.cert_path,
        require_client_cert=True,
        log_config=None,
    )
    with run_in_thread(config) as url:
        with tls_client(pki, pki.bb) as client:
            assert fingerprint_seen(client, f"{url}/direct") == pki.bb.fingerprint
        before = len(echo.requests_seen)
        with tls_client(pki, None) as client, pytest.raises(httpx.TransportError):
            client.get(f"{url}/direct")
        assert len(echo.requests_seen) == before


def test_server_refuses_protocols_older_than_tls_1_2(pki: Pki, echo: EchoApp) -> None:
    config = make_uvicorn_config(
        echo.app,
        host="127.0.0.1",
        port=0,
        cert=pki.server.cert_path,
        key=pki.server.key_path,
        ca_bundle=pki.ca.cert_path,
        log_config=None,
    )
    config.load()

    assert config.ssl is not None
    assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    assert config.ssl.verify_mode == ssl.CERT_OPTIONAL


def test_config_refuses_to_require_certificates_it_cannot_check(pki: Pki, echo: EchoApp) -> None:
    with pytest.raises(ValueError, match="needs a ca_bundle"):
        make_uvicorn_config(
            echo.app,
            host="127.0.0.1",
            port=0,
            cert=pki.server.cert_path,
            key=pki.server.key_path,
            require_client_cert=True,
        )
    with pytest.raises(ValueError, match="need a server certificate"):
        make_uvicorn_config(echo.app, host="127.0.0.1", port=0, ca_bundle=pki.ca.cert_path)


# --- certificate passed by a TLS-terminating proxy --------------------------------------------


def test_header_from_a_trusted_proxy_is_the_identity(pki: Pki, hub_url: str) -> None:
    # The proxy connects with its own certificate (here: BB's) and passes the client's in the
    # header; the proxy's own certificate must not be taken for the client's.
    with tls_client(pki, pki.bb) as proxy:
        seen = fingerprint_seen(
            proxy, f"{hub_url}/behind-proxy", headers={"X-Client-Cert": nginx_escaped(pki.aa)}
        )
        assert seen == pki.aa.fingerprint
        assert fingerprint_seen(proxy, f"{hub_url}/behind-proxy") is None


def test_header_from_an_untrusted_peer_is_ignored_and_logged(
    pki: Pki, hub_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.identity.tls")
    with tls_client(pki, pki.bb) as client:
        seen = fingerprint_seen(
            client, f"{hub_url}/direct", headers={"X-Client-Cert": nginx_escaped(pki.aa)}
        )

    assert seen == pki.bb.fingerprint
    assert "not a trusted proxy" in caplog.text
    assert "127.0.0.1" in caplog.text


def test_forwarded_for_cannot_make_a_peer_look_like_a_trusted_proxy(pki: Pki, hub_url: str) -> None:
    # uvicorn rewrites scope["client"] to 203.0.113.7 (forwarded_allow_ips="*"), an address the
    # /direct route trusts as a proxy; the socket's real peer is 127.0.0.1, so no header identity.
    with tls_client(pki, None) as client:
        seen = fingerprint_seen(
            client,
            f"{hub_url}/direct",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Client-Cert": nginx_escaped(pki.aa)},
        )

    assert seen is None


def test_plain_http_behind_a_proxy_takes_the_header_from_the_trusted_proxy(
    pki: Pki, echo: EchoApp
) -> None:
    config = make_uvicorn_config(echo.app, host="127.0.0.1", port=0, log_config=None)
    with run_in_thread(config) as url, httpx.Client(timeout=5) as proxy:
        assert url.startswith("http://")
        seen = fingerprint_seen(
            proxy, f"{url}/behind-proxy", headers={"X-Client-Cert": nginx_escaped(pki.aa)}
        )
        assert seen == pki.aa.fingerprint
        anonymous = fingerprint_seen(
            proxy, f"{url}/direct", headers={"X-Client-Cert": nginx_escaped(pki.aa)}
        )
        assert anonymous is None


# --- header formats (no server needed: a scope is what the function reads) ---------------------


def scope_from(peer: str | None, *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 50000) if peer else None,
        "headers": [(name.lower().encode(), value.encode("latin-1")) for name, value in headers],
    }


def pem_lines(certificate: IssuedCertificate) -> list[str]:
    return certificate.cert_pem().decode().strip().splitlines()


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(nginx_escaped, id="nginx-escaped-pem"),
        pytest.param(lambda c: " ".join(pem_lines(c)), id="pem-with-spaces"),
        pytest.param(lambda c: "\t".join(pem_lines(c)), id="pem-with-tabs"),
        pytest.param(lambda c: "".join(pem_lines(c)[1:-1]), id="bare-base64-der"),
    ],
)
def test_header_formats_that_proxies_send_all_give_the_certificate(pki: Pki, encode: Any) -> None:
    scope = scope_from("10.0.0.5", ("X-Client-Cert", encode(pki.aa)))

    der = client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")])

    assert der == pki.aa.certificate.public_bytes(serialization.Encoding.DER)


def test_chain_in_the_header_gives_the_first_certificate(pki: Pki) -> None:
    chain = pki.aa.cert_pem() + pki.ca.cert_pem()
    scope = scope_from("10.0.0.5", ("X-Client-Cert", quote(chain.decode(), safe="")))

    der = client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")])

    assert der is not None and fingerprint_sha256(der) == pki.aa.fingerprint


@pytest.mark.parametrize("value", ["", "(null)"])
def test_empty_header_from_a_proxy_means_no_certificate(value: str) -> None:
    scope = scope_from("10.0.0.5", ("X-Client-Cert", value))

    assert client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")]) is None


def test_unreadable_header_from_a_trusted_proxy_is_an_authentication_failure() -> None:
    scope = scope_from("10.0.0.5", ("X-Client-Cert", "-----BEGIN CERTIFICATE-----%0Anope%0A"))

    with pytest.raises(NotAuthenticated, match="unreadable"):
        client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")])


def test_two_certificate_headers_are_refused(pki: Pki) -> None:
    value = nginx_escaped(pki.aa)
    scope = scope_from("10.0.0.5", ("X-Client-Cert", value), ("x-client-cert", value))

    with pytest.raises(NotAuthenticated, match="2 X-Client-Cert headers"):
        client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")])


def test_header_name_is_configurable_and_case_insensitive(pki: Pki) -> None:
    scope = scope_from("10.0.0.5", ("ssl-client-cert", nginx_escaped(pki.aa)))

    der = client_certificate_der(
        scope, trusted_proxies=[ip_network("10.0.0.0/8")], header="SSL-Client-Cert"
    )

    assert der is not None and fingerprint_sha256(der) == pki.aa.fingerprint


def test_ipv4_mapped_peer_on_a_dual_stack_socket_matches_an_ipv4_proxy(pki: Pki) -> None:
    scope = scope_from("::ffff:10.0.0.5", ("X-Client-Cert", nginx_escaped(pki.aa)))

    der = client_certificate_der(scope, trusted_proxies=[ip_network("10.0.0.0/8")])

    assert der is not None and fingerprint_sha256(der) == pki.aa.fingerprint


@pytest.mark.parametrize("peer", [None, "testclient"])
def test_peer_without_an_ip_address_is_never_a_trusted_proxy(pki: Pki, peer: str | None) -> None:
    scope = scope_from(peer, ("X-Client-Cert", nginx_escaped(pki.aa)))

    assert client_certificate_der(scope, trusted_proxies=[ip_network("0.0.0.0/0")]) is None


def test_starlette_request_and_raw_scope_give_the_same_answer(pki: Pki) -> None:
    scope = scope_from("10.0.0.5", ("X-Client-Cert", nginx_escaped(pki.aa)))
    trusted = [ip_network("10.0.0.0/8")]

    from_scope = client_certificate_der(scope, trusted_proxies=trusted)
    from_request = client_certificate_der(StarletteRequest(scope), trusted_proxies=trusted)

    assert from_scope is not None and from_scope == from_request


# --- the threaded server ----------------------------------------------------------------------


def test_run_in_thread_stops_listening_when_the_block_ends(echo: EchoApp) -> None:
    config = make_uvicorn_config(echo.app, host="127.0.0.1", port=0, log_config=None)
    with run_in_thread(config) as url:
        port = urlsplit(url).port
        assert port is not None
        httpx.get(f"{url}/direct", timeout=5).raise_for_status()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_run_in_thread_raises_start_up_failures_in_the_caller(
    echo: EchoApp, tmp_path: Path
) -> None:
    config = make_uvicorn_config(
        echo.app,
        host="127.0.0.1",
        port=0,
        cert=tmp_path / "missing.pem",
        key=tmp_path / "missing.key",
        log_config=None,
    )

    with pytest.raises(RuntimeError, match="did not start") as raised, run_in_thread(config):
        pass
    assert isinstance(raised.value.__cause__, FileNotFoundError)
