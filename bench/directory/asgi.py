"""The benchmark's client: one GET request handed straight to the app as ASGI, the way a
server hands it one, answered with its status and JSON body.

httpx's ASGI transport (what the tests use) builds URL, request and response objects and
looks for trio on every request: about 1.5 ms of CPU a search here, in the same process and
on the same core as the service it measures. This client leaves routing, validation, the
search and serialisation to the app, as a server would, and spends a few microseconds of
its own (the HTTP parsing a real server does is not measured either way)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.types import ASGIApp, Message


async def get(app: ASGIApp, path: str, params: dict[str, Any]) -> tuple[int, Any]:
    """``GET path?params`` through ``app``: its status and its body decoded from JSON."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(params, doseq=True).encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "state": {},
    }
    body: list[bytes] = []
    status = 0
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:  # the request has no body; a second read waits for a disconnect
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, orjson.loads(b"".join(body)) if body else None
