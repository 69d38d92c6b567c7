"""Refuse request bodies over `settings.max_request_bytes` before they are read in full.

FastAPI reads a body into memory before it validates anything, so the limit has to sit in front
of that: a declared Content-Length over the limit is refused without reading a byte, and a body
sent without one (chunked) is counted as it streams and refused at the first byte too many.
What fits is handed on to the route unchanged.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from hub.errors import InvalidRequest, PayloadTooLarge
from hub.runtime import HubRuntime

RouteHandler = Callable[[Request], Coroutine[Any, Any, Response]]


class BodyLimitedRoute(APIRoute):
    """An APIRoute whose body may not exceed the hub's `max_request_bytes`."""

    def get_route_handler(self) -> RouteHandler:
        handle = super().get_route_handler()

        async def limited(request: Request) -> Response:
            runtime: HubRuntime = request.app.state.runtime
            body = await read_body_within(request, limit=runtime.settings.max_request_bytes)
            return await handle(Request(request.scope, receive=_replay(body, request.receive)))

        return limited


async def read_body_within(request: Request, *, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise InvalidRequest("Content-Length is not a number", field="Content-Length") from None
        if declared_size > limit:
            raise _too_large(f"{declared_size:,} bytes", limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit:,} bytes", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is {size}; this hub accepts at most {limit:,} bytes per request",
        field="body",
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives the body once, then the client's own (for disconnects)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
