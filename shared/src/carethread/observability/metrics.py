"""Prometheus metrics, one registry per app (so several apps can live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.http_requests = Histogram(
            "carethread_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "carethread_outbox_backlog",
            "Outbox rows not yet published",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "carethread_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest unpublished outbox row",
            registry=self.registry,
        )
        self.outbox_published = Counter(
            "carethread_outbox_published_total",
            "Events the relay published",
            registry=self.registry,
        )
        self.events_handled = Counter(
            "carethread_events_handled_total",
            "Events consumed, by type and outcome (applied, duplicate, ignored, dead_lettered)",
            ["event_type", "outcome"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "carethread_consumer_lag",
            "Messages behind the end of each partition",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.info = Gauge(
            "carethread_service_info", "Service identity", ["service"], registry=self.registry
        )
        self.info.labels(**labels).set(1)
