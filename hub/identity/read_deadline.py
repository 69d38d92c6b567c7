"""A deadline on how long a client may take to send its request (the slow-loris defence).

Uvicorn bounds none of it: its keep-alive timer starts only after a first response, so a client
that connects and then sends its headers or its body a byte at a time holds a connection (and,
in the body, a request handler) for as long as it likes. This protocol gives every request a
deadline, after Apache's ``mod_reqtimeout``:

- the headers must be complete within ``headers`` seconds of the connection (or of the first
  byte after the previous response);
- the body then gets ``body`` seconds, extended by one second per ``body_min_rate`` bytes that
  arrive, so a large upload over a slow link (an NPPO on 256 kbit/s sends 32 KB/s) is never cut
  while it keeps moving at that rate or better;
- time the application itself holds reading back (flow control paused) does not count.

A client that misses its deadline gets ``408 Request Timeout`` (if no response has started) and
the connection is closed; the handler waiting for the body sees a disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import ClassVar

import h11
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ReadDeadlineH11Protocol", "ReadDeadlineHttpToolsProtocol", "ReadTimeouts"]

logger = logging.getLogger(__name__)

_TIMEOUT_BODY = b"the request was not received in time\n"
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadTimeouts:
    """Apache's ``RequestReadTimeout header=20 body=20,MinRate=500`` defaults."""

    headers: float = 20.0
    body: float = 20.0
    body_min_rate: float = 500.0

    def __post_init__(self) -> None:
        if min(self.headers, self.body, self.body_min_rate) <= 0:
            raise ValueError("read timeouts and the minimum rate must be positive")


class _ReadDeadline(asyncio.Protocol):
    """The deadline itself, for either of uvicorn's HTTP/1.1 protocols; each subclass below tells
    it when a request starts, when its body starts and arrives, and when it is complete.

    Mixed in before uvicorn's protocol class (whose base is ``asyncio.Protocol`` too), so the
    ``super()`` calls below reach uvicorn's methods.
    """

    read_timeouts: ClassVar[ReadTimeouts] = ReadTimeouts()

    # Provided by uvicorn's protocol classes, which these are mixed into.
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    flow: FlowControl
    client: tuple[str, int] | None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline_handle: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._reading_body = False
        self._arm(self.read_timeouts.headers)

    def on_response_complete(self) -> None:
        self._reading_body = False
        super().on_response_complete()  # type: ignore[misc]  # uvicorn's, after this in the MRO

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _request_begins(self) -> None:
        if self._deadline_handle is None:  # the first byte of a request after a response
            self._arm(self.read_timeouts.headers)

    def _body_begins(self) -> None:
        if not self._reading_body:
            self._reading_body = True
            self._arm(self.read_timeouts.body)

    def _body_arrived(self, size: int) -> None:
        self._extend(size / self.read_timeouts.body_min_rate)

    def _request_complete(self) -> None:
        self._disarm()

    def _response_started(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and bool(cycle.response_started)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.time() + seconds
        self._deadline_handle = self.loop.call_at(self._deadline, self._deadline_passed)

    def _extend(self, seconds: float) -> None:
        if self._deadline_handle is not None:
            self._deadline_handle.cancel()
            self._deadline += seconds
            self._deadline_handle = self.loop.call_at(self._deadline, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline_handle is not None:
            self._deadline_handle.cancel()
            self._deadline_handle = None

    def _deadline_passed(self) -> None:
        self._deadline_handle = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:
            # The application has not read what arrived yet: the client is not the slow one.
            self._arm(self.read_timeouts.body)
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        phase = "body" if self._reading_body else "headers"
        logger.info("closing the connection of %s: request %s not received in time", client, phase)
        if not self._response_started():
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


class ReadDeadlineH11Protocol(_ReadDeadline, H11Protocol):
    """Uvicorn's h11 protocol with a read deadline per request (see the module docstring). h11
    is pure Python; it serves where httptools is not installed."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:
            self._request_begins()
        elif state is h11.SEND_BODY:
            self._body_begins()
            self._body_arrived(len(data))
        else:  # the whole request is in (or the connection is done with)
            self._request_complete()


class ReadDeadlineHttpToolsProtocol(_ReadDeadline, HttpToolsProtocol):
    """Uvicorn's httptools protocol (llhttp, in C: a 41 KB request costs the server about half
    the CPU it costs through h11) with the same read deadline, driven by the parser's callbacks."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begins()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._body_begins()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_arrived(len(body))

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._request_complete()
