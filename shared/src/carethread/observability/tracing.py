"""W3C trace context through HTTP and Kafka, with OpenTelemetry spans.

The tracer provider is the SDK's (so spans get real ids even with no exporter); a
deployment adds an exporter through the standard ``OTEL_*`` environment variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_configured = False


def configure_tracing() -> None:
    global _configured  # noqa: PLW0603  # one provider per process, set once
    if not _configured:
        trace.set_tracer_provider(TracerProvider())
        _configured = True


# Made once: a tracer per request or per consumed event was a measurable cost. Before
# configure_tracing this is OpenTelemetry's proxy, which takes up the provider once it is set.
_tracer = trace.get_tracer("carethread")


def tracer() -> trace.Tracer:
    return _tracer


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def span_from_headers(
    name: str, headers: Mapping[str, str], *, kind: SpanKind = SpanKind.SERVER
) -> Iterator[Span]:
    """Start a span whose parent is the ``traceparent`` in ``headers`` (if any)."""
    parent = _propagator.extract(carrier=dict(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, kind=kind) as span:
            yield span
    finally:
        otel_context.detach(token)


def kafka_headers_to_dict(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in headers}
