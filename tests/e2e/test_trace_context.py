"""W3C trace context follows a request from an HTTP call, through the outbox and the broker's
message headers, into the span in which another service applies the event."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from carethread.events import topics
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.stack import (
    Brokers,
    DatabaseFactory,
    app_client,
    mdt_app,
    referral_body,
    referrals_app,
    wait_until,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_the_callers_trace_reaches_the_consumers_span(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)  # the services installed the SDK's
        spans = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(spans))

        r = await referrals.post(
            "/api/v1/referrals",
            json=referral_body(7),
            headers={**bearer(auth, roles=["referrer"]), "traceparent": CALLER},
        )
        assert r.status_code == 201, r.text
        assert r.headers["traceparent"].split("-")[1] == TRACE_ID
        # One server span for the request, the caller's span its parent: no second layer of
        # instrumentation (FastAPI's own) wrapping the service's.
        servers = [
            s
            for s in spans.get_finished_spans()
            if s.kind == SpanKind.SERVER and format(s.context.trace_id, "032x") == TRACE_ID
        ]
        assert [s.name for s in servers] == ["POST /api/v1/referrals"]
        assert servers[0].parent is not None
        assert format(servers[0].parent.span_id, "016x") == CALLER.split("-")[2]
        event_id = r.json()["event_id"]

        r = await mdt.get(
            f"/api/v1/persons/{r.json()['person_id']}/timeline",
            params={"min_event": event_id, "wait_ms": 20_000},
            headers=bearer(auth, roles=["admin"]),
        )
        assert r.json()["freshness"]["caught_up"] is True

        async def consumer_span_recorded() -> bool:
            return any(
                s.kind == SpanKind.CONSUMER and format(s.context.trace_id, "032x") == TRACE_ID
                for s in spans.get_finished_spans()
            )

        await wait_until(consumer_span_recorded, what="the consumer's span in the caller's trace")

        # And the message on the broker carries it, for any other consumer.
        prefix = brokers.kafka.topic_prefix if brokers.kafka else "mem."
        published = await brokers.for_app().read_all(prefix + topics.REFERRALS)
        ours = [m for m in published if m.header("ce_id") == event_id]
        assert len(ours) == 1
        assert (ours[0].header("traceparent") or "").split("-")[1] == TRACE_ID
