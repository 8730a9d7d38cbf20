"""Per-request metrics and W3C trace context, as a plain ASGI middleware."""

from __future__ import annotations

import time

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
