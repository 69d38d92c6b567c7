"""A real push receiver: an HTTPS server (mutual TLS) implementing `DeliverEnvelope`, whose
behaviour a test switches between answering, failing with 5xx, timing out and going slow.

It keeps what a national system's receiver keeps: each hubDeliveryNumber stored once (a second
delivery of the same number is answered but not stored again), and it counts every call, so
tests can tell "in the box once" from "called once".
"""

import asyncio
import contextlib
import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from ephyto_core._pki import fingerprint_sha256
from hub.envelopes.domain import TrackingState
from hub.identity.tls import CLIENT_CERT_STATE_KEY, make_uvicorn_config
from hub.soap.codec import NSMAP, hub, read_envelope, soap_envelope, write_header
from hub.soap.faults import SoapFault, render_fault
from hub.soap.request import operation_element


@dataclass
class ReceiverBehaviour:
    #: "ok" | "error" (HTTP 503) | "fault" (SOAP Server fault) | "timeout" | "slow" | "refuse"
    mode: str = "ok"
    slow_seconds: float = 0.3
    hang_seconds: float = 30.0


@dataclass
class FakeReceiver:
    behaviour: ReceiverBehaviour = field(default_factory=ReceiverBehaviour)
    calls: Counter[str] = field(default_factory=Counter)
    #: Numbers answered with success, in the order first stored.
    stored: list[str] = field(default_factory=list)
    answered_twice: Counter[str] = field(default_factory=Counter)
    client_fingerprints: set[str] = field(default_factory=set)
    call_times: list[float] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        der = request.scope.get("state", {}).get(CLIENT_CERT_STATE_KEY)
        if der:
            self.client_fingerprints.add(fingerprint_sha256(der))
        body = await request.body()
        self.call_times.append(asyncio.get_running_loop().time())
        element = operation_element(body)
        submitted = read_envelope(element[0], path="DeliverEnvelope/env")
        number = submitted.header.hub_delivery_number or ""
        self.calls[number] += 1
        mode = self.behaviour.mode
        if mode == "error":
            return Response("service unavailable", status_code=503)
        if mode == "fault":
            return Response(
                render_fault(SoapFault("receiver database down")),
                status_code=500,
                media_type="text/xml",
            )
        if mode == "timeout":
            await asyncio.sleep(self.behaviour.hang_seconds)
        elif mode == "slow":
            await asyncio.sleep(self.behaviour.slow_seconds)
        if number in self.stored:
            self.answered_twice[number] += 1
        else:
            self.stored.append(number)
        answer = dataclasses.replace(
            submitted.header,
            tracking_info=TrackingState.FAILED_DELIVERY
            if mode == "refuse"
            else TrackingState.DELIVERED,
            error_message="unreadable by our system" if mode == "refuse" else None,
        )
        response = etree.Element(hub("DeliverEnvelopeResponse"), nsmap=NSMAP)
        write_header(response, hub("DeliverEnvelopeResult"), answer)
        return Response(soap_envelope(response), media_type="text/xml; charset=utf-8")


@dataclass
class RunningReceiver:
    receiver: FakeReceiver
    url: str
    server: uvicorn.Server
    task: "asyncio.Task[None]"

    async def stop(self) -> None:
        self.server.should_exit = True
        self.server.force_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)


async def start_receiver(
    *, cert: Path, key: Path, client_ca: Path, receiver: FakeReceiver | None = None
) -> RunningReceiver:
    """Serve a receiver on a free loopback port; the hub must present a client certificate."""
    receiver = receiver or FakeReceiver()
    config = make_uvicorn_config(
        receiver,
        host="127.0.0.1",
        port=0,
        cert=cert,
        key=key,
        ca_bundle=client_ca,
        require_client_cert=True,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return RunningReceiver(
        receiver=receiver,
        url=f"https://127.0.0.1:{port}/ephyto/DeliveryService",
        server=server,
        task=task,
    )
