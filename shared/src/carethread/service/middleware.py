"""Plain ASGI middleware: per-request metrics and W3C trace context; problem+json for 413."""

from __future__ import annotations

import time

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carethread.errors import problem_response
from carethread.observability.metrics import ServiceMetrics
from carethread.observability.tracing import current_traceparent, span_from_headers


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        start = time.perf_counter()
        status = 500
        name = f"{scope['method']} {scope['path']}"
        with span_from_headers(name, headers, kind=SpanKind.SERVER):
            traceparent = current_traceparent()

            async def send_with_trace(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if traceparent:
                        message.setdefault("headers", [])
                        message["headers"] = [
                            *message["headers"],
                            (b"traceparent", traceparent.encode()),
                        ]
                await send(message)

            try:
                await self.app(scope, receive, send_with_trace)
            finally:
                route = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                self.metrics.http_requests.labels(scope["method"], path, str(status)).observe(
                    time.perf_counter() - start
                )


class ProblemForOversizedBody:
    """Starlette's body limit answers 413 in text/plain, outside every exception handler.

    This sits outermost and turns that reply into problem+json, so a client sees the same
    error shape for an oversized body as for any other refusal.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_problem_instead(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.startswith(b"text/plain"):
                    replaced = True
                    response = problem_response(
                        413,
                        "Content Too Large",
                        slug="http-413",
                        detail=f"The request body is larger than {self.limit} bytes.",
                        instance=scope["path"],
                    )
                    await response(scope, receive, send)
                    return
            if not replaced:
                await send(message)

        await self.app(scope, receive, send_problem_instead)
