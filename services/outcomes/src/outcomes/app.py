"""Person-level outcome measures and the population outcomes framework."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from carethread.db import MigrationSource
from carethread.events import topics
from carethread.messaging import Broker
from carethread.service import ServiceDefinition, create_service_app
from outcomes.announce import announce_periodically
from outcomes.api.activity import router as activity_router
from outcomes.api.indicators import router as indicators_router
from outcomes.api.measures import router as measures_router
from outcomes.api.opt_outs import router as opt_outs_router
from outcomes.demo import load_demo_measures
from outcomes.fhir.router import router as fhir_router
from outcomes.handlers import router as event_router
from outcomes.settings import OutcomesSettings
from outcomes.tally_builder import build_stale_tallies

DEFINITION = ServiceDefinition(
    name="outcomes",
    title="CareThread outcomes",
    description="Person-level outcome measures and the population outcomes framework.",
    migrations=MigrationSource(Path(__file__).parent / "migrations", "alembic_version"),
    routers=[measures_router, indicators_router, activity_router, opt_outs_router, fhir_router],
    publishes=[topics.OUTCOMES, topics.AUDIT],
    consumes=event_router,
    # Demo measures wait for the front door's demo people, so they load in the background.
    # Indicator tallies are built (for a new database or a changed indicator) at start.
    background=[load_demo_measures, announce_periodically, build_stale_tallies],
)


def create_app(
    settings: OutcomesSettings | None = None, *, broker: Broker | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or OutcomesSettings(), broker=broker)
