"""The bare ASGI app of the floor benchmark (:mod:`benchmarks.floor`): read the body, parse the
JSON, answer a small JSON object, as the cheapest possible stand-in for the REST face."""

import json
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    document = json.loads(b"".join(chunks))
    answer = json.dumps({"received": len(document.get("content", ""))}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})
