"""Oversized uploads (declared and streamed) in-process, and slow clients against a real server.

The slow-client cases run the hub under uvicorn on loopback, plain HTTP as behind a TLS proxy,
with short read deadlines so that each case takes seconds: a client that trickles its headers or
its body is answered 408 and cut off within the deadline, one that keeps a steady pace is not.
"""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from hub.database import unit_of_work
from hub.identity.read_deadline import ReadTimeouts
from hub.identity.server import run_in_thread
from hub.identity.tls import MtlsH11Protocol, MtlsHttpToolsProtocol
from hub.runtime import build_runtime
from hub.server import hub_uvicorn_config
from hub.settings import HubSettings
from tests.hub import conftest as hub_fixtures
from tests.hub.hostile.checks import assert_refused_cleanly, record
from tests.hub.hostile.harness import HostileHub, measured, read_rest, read_soap, rows_change
from tests.hub.soap.soapxml import soap_request

CHUNK = b" " * 65536


async def _stream(limit: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent <= limit:  # the same buffer every time: the client allocates nothing per chunk
        yield CHUNK
        sent += len(CHUNK)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("face", ["soap", "rest"])
async def test_upload_over_the_limit_is_refused_as_it_streams(
    face: str, declared: bool, hostile_hub: HostileHub
) -> None:
    limit = hostile_hub.runtime.settings.max_request_bytes
    headers = {"Content-Type": "text/xml" if face == "soap" else "application/json"}
    if declared:
        headers["Content-Length"] = str(limit + 1)
    path = "/hub/DeliveryService" if face == "soap" else "/envelopes"
    before = await hostile_hub.rows()

    response, cost = await measured(
        lambda: hostile_hub.client(face).post(path, content=_stream(limit), headers=headers)
    )

    observed = read_soap(response) if face == "soap" else read_rest(response)
    rows = rows_change(before, await hostile_hub.rows())
    record(
        suite="upload",
        case="over-the-limit",
        carrier=f"{face}-{'declared' if declared else 'chunked'}",
        expected="413 / fault",
        observed=observed,
        cost=cost,
        rows=rows,
    )
    assert_refused_cleanly(observed, cost, rows, kinds=("problem", "fault"))
    assert observed.status == (413 if face == "rest" else 500), observed
    assert f"accepts at most {limit:,} bytes" in observed.message


# ------------------------------------------------------------------------------- a real server

TIMEOUTS = ReadTimeouts(headers=1.0, body=1.0, body_min_rate=4096)
#: How long past its deadline a cut may come: the event loop's timer, a loaded test machine.
SLACK = 2.0


async def _register(settings: HubSettings, pki: hub_fixtures.TestPki) -> None:
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            await runtime.nppos.register(session, code="AA", name="NPPO AA")
            await runtime.nppos.add_client_certificate(
                session, code="AA", certificate=pki.clients["AA"].cert_pem()
            )
    finally:
        await runtime.close()


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest,
    sqlite_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    test_pki: hub_fixtures.TestPki,
) -> Iterator[tuple[str, int, str]]:
    """(host, port, AA's certificate header value) of a hub behind a 'proxy' on loopback, on
    each of the HTTP/1.1 parsers the hub can serve with (each has its own deadline hooks)."""
    settings = HubSettings(
        database_url=sqlite_url,
        data_dir=tmp_path_factory.mktemp("slow-hub"),
        trusted_proxies=["127.0.0.1/32"],
    )
    asyncio.run(_register(settings, test_pki))
    config = hub_uvicorn_config(
        settings,
        host="127.0.0.1",
        port=0,
        read_timeouts=TIMEOUTS,
        log_config=None,
        http=request.param,
    )
    with run_in_thread(config) as base_url:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        yield host, int(port), quote(test_pki.clients["AA"].cert_pem().decode())
    asyncio.run(hub_fixtures._empty(sqlite_url))


class Trickle:
    """A raw client socket that sends bytes at a chosen pace and notes when the server cut it."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.started = time.monotonic()
        self.answer = b""

    def send_slowly(
        self, data: bytes, *, every: float, piece: int = 1, give_up: float = 15
    ) -> None:
        """Send `piece` bytes every `every` seconds until done, cut off, or `give_up` passes."""
        self.sock.settimeout(every)
        for start in range(0, len(data), piece):
            if time.monotonic() - self.started > give_up:
                return
            try:
                self.sock.sendall(data[start : start + piece])
            except OSError:
                return  # cut off
            try:
                received = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.answer += received
            if not received:
                return

    def read_answer(self, *, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            while chunk := self.sock.recv(65536):
                self.answer += chunk
        except (TimeoutError, OSError):
            pass
        return self.answer

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        self.sock.close()


def _request(host: str, port: int, body: bytes, *, certificate: str = "") -> bytes:
    head = (
        f"POST /hub/DeliveryService HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: text/xml; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        + (f"X-Client-Cert: {certificate}\r\n" if certificate else "")
        + "\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize("protocol", [MtlsHttpToolsProtocol, MtlsH11Protocol])
def test_the_default_deadlines_are_apaches(protocol: type[MtlsH11Protocol]) -> None:
    assert protocol.read_timeouts == ReadTimeouts(headers=20.0, body=20.0, body_min_rate=500.0)


def test_a_client_that_connects_and_says_nothing_is_cut_off(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    client = Trickle(host, port)
    answer = client.read_answer(timeout=TIMEOUTS.headers + SLACK + 5)
    seconds = client.seconds()
    client.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert seconds < TIMEOUTS.headers + SLACK


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    client = Trickle(host, port)
    client.send_slowly(_request(host, port, b"<x/>"), every=0.2)
    answer = client.read_answer(timeout=SLACK)
    seconds = client.seconds()
    client.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert seconds < TIMEOUTS.headers + SLACK


def test_a_body_sent_a_byte_at_a_time_is_cut_off(server: tuple[str, int, str]) -> None:
    host, port, certificate = server
    body = soap_request("<hub:GetProfile/>") + b" " * 100_000
    request = _request(host, port, body, certificate=certificate)
    headers_end = request.index(b"\r\n\r\n") + 4
    client = Trickle(host, port)
    client.sock.sendall(request[:headers_end])
    client.send_slowly(request[headers_end:], every=0.2, piece=10)
    answer = client.read_answer(timeout=SLACK)
    seconds = client.seconds()
    client.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    # The body's second, plus one per 4,096 bytes of the few hundred that trickled in.
    assert seconds < TIMEOUTS.headers + TIMEOUTS.body + SLACK


def test_a_steady_upload_is_not_cut_off(server: tuple[str, int, str]) -> None:
    host, port, certificate = server
    # 96 KB at ~32 KB/s (an NPPO on 256 kbit/s): three seconds, past both one-second
    # allowances, but always ahead of the minimum rate.
    body = soap_request("<hub:GetProfile/>") + b" " * 96_000
    client = Trickle(host, port)
    client.send_slowly(_request(host, port, body, certificate=certificate), every=0.125, piece=4096)
    answer = client.read_answer(timeout=10)
    seconds = client.seconds()
    client.close()
    assert seconds > TIMEOUTS.headers + TIMEOUTS.body
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b"GetProfileResponse" in answer


def test_a_huge_declared_length_is_refused_without_waiting_for_it(
    server: tuple[str, int, str], tmp_path: Path
) -> None:
    host, port, certificate = server
    head = _request(host, port, b"", certificate=certificate).replace(
        b"Content-Length: 0", b"Content-Length: 1000000000000"
    )
    client = Trickle(host, port)
    client.sock.sendall(head)
    answer = client.read_answer(timeout=5)
    seconds = client.seconds()
    client.close()
    assert answer.startswith(b"HTTP/1.1 500 "), answer[:100]
    assert b"accepts at most" in answer
    assert seconds < TIMEOUTS.headers + SLACK
