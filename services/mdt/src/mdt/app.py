"""The MDT view: a read model built only from the other services' events."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from carethread.db import MigrationSource
from carethread.events import topics
from carethread.messaging import Broker
from carethread.service import ServiceDefinition, create_service_app
from mdt.api.caseload import router as caseload_router
from mdt.api.stream import router as stream_router
from mdt.api.timeline import router as timeline_router
from mdt.handlers import router as event_router
from mdt.settings import MdtSettings

DEFINITION = ServiceDefinition(
    name="mdt",
    title="CareThread MDT view",
    description="The neighbourhood caseload and person timelines, kept consistent by events.",
    migrations=MigrationSource(Path(__file__).parent / "migrations", "alembic_version"),
    routers=[caseload_router, stream_router, timeline_router],
    publishes=[topics.AUDIT],
    consumes=event_router,
)


def create_app(settings: MdtSettings | None = None, *, broker: Broker | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or MdtSettings(), broker=broker)
