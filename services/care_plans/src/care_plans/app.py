"""The shared, person-centred care plan: tell my story once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from care_plans.api.overdue import router as overdue_router
from care_plans.api.persons import router as persons_router
from care_plans.api.plans import router as plans_router
from care_plans.demo import load_demo_data
from care_plans.fhir.router import router as fhir_router
from care_plans.handlers import router as event_router
from care_plans.overdue import watch
from care_plans.settings import CarePlansSettings
from carethread.db import MigrationSource
from carethread.events import topics
from carethread.messaging import Broker
from carethread.service import ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="care_plans",
    title="CareThread care plans",
    description="The shared, person-centred care plan: tell my story once.",
    migrations=MigrationSource(Path(__file__).parent / "migrations", "alembic_version"),
    routers=[persons_router, plans_router, overdue_router, fhir_router],
    publishes=[topics.CARE_PLANS, topics.AUDIT],
    consumes=event_router,
    demo_data=load_demo_data,
)


def create_app(
    settings: CarePlansSettings | None = None, *, broker: Broker | None = None
) -> FastAPI:
    settings = settings or CarePlansSettings()
    app = create_service_app(DEFINITION, settings, broker=broker)
    if settings.overdue_check_seconds <= 0:
        return app
    service_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def with_overdue_watch(app: FastAPI) -> AsyncIterator[None]:
        # Started once the service is up (migrated, relay running), stopped before it stops.
        async with service_lifespan(app):
            task = asyncio.create_task(
                watch(app.state.runtime, settings.overdue_check_seconds),
                name="care_plans-overdue-watch",
            )
            try:
                yield
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    app.router.lifespan_context = with_overdue_watch
    return app
