"""What every service serves, whatever its domain: health, readiness that names what is down,
Prometheus metrics, its OpenAPI document and interactive docs."""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

import care_plans.app
import directory.app
import mdt.app
import outcomes.app
import referrals.app
from care_plans.settings import CarePlansSettings
from carethread.messaging import InMemoryBroker
from carethread.service import ServiceDefinition
from carethread.service.collector import FIRST_THRESHOLD
from carethread.settings import AuthSettings, KafkaSettings, ServiceSettings
from carethread.testing.apps import running
from directory.settings import DirectorySettings
from mdt.settings import MdtSettings
from outcomes.settings import OutcomesSettings
from referrals.settings import ReferralsSettings

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OUTBOX_METRICS = (
    "carethread_outbox_backlog",
    "carethread_outbox_oldest_unpublished_age_seconds",
    "carethread_outbox_published",  # a counter: exposed as ..._total
)


@dataclass(frozen=True)
class Service:
    name: str
    definition: ServiceDefinition
    settings_class: type[ServiceSettings]
    create_app: Callable[..., FastAPI]


SERVICES = [
    Service("referrals", referrals.app.DEFINITION, ReferralsSettings, referrals.app.create_app),
    Service("care_plans", care_plans.app.DEFINITION, CarePlansSettings, care_plans.app.create_app),
    Service("directory", directory.app.DEFINITION, DirectorySettings, directory.app.create_app),
    Service("outcomes", outcomes.app.DEFINITION, OutcomesSettings, outcomes.app.create_app),
    Service("mdt", mdt.app.DEFINITION, MdtSettings, mdt.app.create_app),
]

every_service = pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Running:
    service: Service
    client: httpx.AsyncClient
    broker: InMemoryBroker


def settings_of(service: Service, database_url: str, auth: AuthSettings) -> ServiceSettings:
    return service.settings_class(
        database_url=database_url,
        auth=auth,
        kafka=KafkaSettings(topic_prefix=f"test-{service.name}."),
        log_json=False,
        consumer_retry_backoff_ms=10,
    )


@pytest.fixture
async def app(service: Service, database_url: str, auth: AuthSettings) -> AsyncIterator[Running]:
    settings = settings_of(service, database_url, auth)
    broker = InMemoryBroker()
    async with running(service.create_app(settings, broker=broker)) as client:
        yield Running(service, client, broker)


async def ready(client: httpx.AsyncClient) -> httpx.Response:
    """Readiness once the relay (and consumer) have connected; bounded, not timed."""
    async with asyncio.timeout(30):
        while True:
            r = await client.get("/health/ready")
            if r.status_code == 200:
                return r
            await asyncio.sleep(0.05)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict), ref
        assert part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def check_openapi_3(spec: dict[str, Any]) -> None:
    """The structural rules of OpenAPI 3.x that a generator can get wrong."""
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"]), spec["openapi"]
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    assert isinstance(spec["paths"], dict)
    assert spec["paths"]
    operation_ids: list[str] = []
    for path, item in spec["paths"].items():
        assert path.startswith("/"), path
        operations = {k: v for k, v in item.items() if k in HTTP_METHODS}
        assert operations, path
        for method, operation in operations.items():
            assert operation["responses"], f"{method} {path} has no responses"
            for status in operation["responses"]:
                assert status == "default" or re.fullmatch(r"[1-5](\d\d|XX)", status), status
            operation_ids.append(operation["operationId"])
            declared = set(re.findall(r"{([^}]+)}", path))
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, f"{method} {path}: path parameters {in_path}"
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    for ref in refs(spec):
        resolve(spec, ref)


@every_service
@sqlite_only
async def test_liveness_and_readiness(app: Running) -> None:
    live = await app.client.get("/health/live")
    assert live.status_code == 200
    assert live.json() == {"status": "alive"}

    r = await ready(app.client)
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["down"] == []


@every_service
@sqlite_only
async def test_readiness_names_the_broker_when_it_is_down_and_recovers(app: Running) -> None:
    await ready(app.client)
    app.broker.available = False
    r = await app.client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down")
    assert (await app.client.get("/health/live")).status_code == 200  # alive, not ready

    app.broker.available = True
    assert (await ready(app.client)).json()["down"] == []


@every_service
@sqlite_only
async def test_metrics_are_prometheus_text_with_the_outbox_metrics(app: Running) -> None:
    await ready(app.client)
    r = await app.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name in OUTBOX_METRICS:
        assert name in families, sorted(families)
    assert families["carethread_outbox_backlog"].type == "gauge"
    assert families["carethread_outbox_published"].type == "counter"
    (backlog,) = families["carethread_outbox_backlog"].samples
    assert backlog.value == 0  # nothing written, nothing waiting
    http = families["carethread_http_request_duration_seconds"]
    assert http.type == "histogram"
    routes = {s.labels.get("route") for s in http.samples}
    assert "/health/ready" in routes
    (info,) = families["carethread_service_info"].samples
    assert info.labels == {"service": app.service.name}
    assert info.value == 1


@every_service
@sqlite_only
async def test_openapi_is_a_valid_openapi_3_document_with_the_services_title(
    app: Running,
) -> None:
    r = await app.client.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    spec = r.json()
    check_openapi_3(spec)
    assert spec["info"]["title"] == app.service.definition.title
    assert spec["info"]["title"].startswith("CareThread")
    assert spec["info"]["version"] == app.service.definition.version
    assert spec["info"]["description"] == app.service.definition.description
    assert {"/health/live", "/health/ready", "/metrics"} <= set(spec["paths"])
    for router in app.service.definition.routers:
        for route in router.routes:
            path = getattr(route, "path", None)
            documented = getattr(route, "include_in_schema", True)
            if path and documented:
                assert path in spec["paths"], path


@every_service
@sqlite_only
async def test_interactive_docs_are_served(app: Running) -> None:
    r = await app.client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert "swagger-ui" in r.text
    assert "/openapi.json" in r.text
    assert app.service.definition.title in r.text


@every_service
@sqlite_only
async def test_starting_a_service_sets_its_garbage_collector_for_request_work(
    service: Service, database_url: str, auth: AuthSettings
) -> None:
    # The first threshold is raised so that a request's objects die before the collector
    # looks (``carethread.service.collector``); the older generations' are left as they were.
    before = gc.get_threshold()
    gc.set_threshold(700, before[1], before[2])
    try:
        settings = settings_of(service, database_url, auth)
        async with running(service.create_app(settings, broker=InMemoryBroker())) as client:
            assert gc.get_threshold() == (FIRST_THRESHOLD, before[1], before[2])
            assert (await client.get("/health/live")).status_code == 200
    finally:
        gc.set_threshold(*before)
