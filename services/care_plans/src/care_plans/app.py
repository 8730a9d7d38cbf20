"""The shared, person-centred care plan: tell my story once."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from care_plans.api.overdue import router as overdue_router
from care_plans.api.persons import router as persons_router
from care_plans.api.plans import router as plans_router
from care_plans.demo import load_demo_data
from care_plans.fhir.router import router as fhir_router
from care_plans.handlers import router as event_router
from care_plans.overdue import watch_overdue
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
    background=[watch_overdue],
)


def create_app(
    settings: CarePlansSettings | None = None, *, broker: Broker | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or CarePlansSettings(), broker=broker)
