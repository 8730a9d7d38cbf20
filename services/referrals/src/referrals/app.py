"""The referrals service: the integrated front door."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from carethread.db import MigrationSource
from carethread.events import topics
from carethread.messaging import Broker
from carethread.service import ServiceDefinition, create_service_app
from referrals.api.persons import router as persons_router
from referrals.api.referrals import router as referrals_router
from referrals.demo import load_demo_data
from referrals.fhir.router import router as fhir_router
from referrals.handlers import router as event_router
from referrals.settings import ReferralsSettings
from referrals.sla_watch import watch_sla

DEFINITION = ServiceDefinition(
    name="referrals",
    title="CareThread referrals",
    description="The integrated front door: every referral received once, triaged jointly.",
    migrations=MigrationSource(Path(__file__).parent / "migrations", "alembic_version"),
    routers=[referrals_router, persons_router, fhir_router],
    publishes=[topics.REFERRALS, topics.AUDIT],
    consumes=event_router,
    demo_data=load_demo_data,
    background=[watch_sla],
)


def create_app(
    settings: ReferralsSettings | None = None, *, broker: Broker | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or ReferralsSettings(), broker=broker)
